"""A message that names what grows with the input (municipalities, indicators, cells, files,
sheets) stays a message: the first few named, the rest counted (core.values.listed).

split's refusal of a 設定 listing 2,000 municipalities without their sheets named all 2,000
in one line (tens of kilobytes), which a button's message box (about 1,024 characters)
showed cut in its middle, the count lost; the command line printed it whole.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from renkei_xl.core.alerts import ALERT_CHARS, BUTTON_CHARS, Listing, alert_text
from renkei_xl.core.errors import UserError
from renkei_xl.core.model import Entry, Finding, Municipality, Settings
from renkei_xl.core.sheet_findings import LISTED_FINDINGS
from renkei_xl.core.values import LISTED, MUNICIPALITIES_LISTED, cell_length, count_text, listed
from test_one_definition import _tree     # the package's modules parsed once a run

MANY = 2_000
PACKAGE = Path(__file__).resolve().parents[1] / "renkei_xl"


def _names(n: int = MANY) -> list[str]:
    return [f"第{i}町" for i in range(1, n + 1)]


def _settings(**fields) -> Settings:
    munis = tuple(Municipality(name, **fields) for name in _names())
    return Settings("テスト圏", 2023, municipalities=munis)


def _refusal(call) -> str:
    with pytest.raises(UserError) as exc:
        call()
    return str(exc.value)


def _split() -> str:
    from renkei_xl.cycle.distribute import split_master

    data = SimpleNamespace(settings=_settings())
    return _refusal(lambda: split_master(Path("m.xlsm"), Path("out"), read=(data, {}, {}, None)))


def _unknown_entries() -> str:
    from renkei_xl.workbook.build import _check_settings

    return _refusal(lambda: _check_settings(Settings("テスト圏", 2023), [Entry(n, "01-1") for n in _names()]))


def _no_mail() -> str:
    from renkei_xl.cycle.letters import check_mail_settings

    return _refusal(lambda: check_mail_settings(_settings()))


def _one_address() -> str:
    from renkei_xl.cycle.letters import borrowed_addresses

    part = borrowed_addresses(_settings(email="renkei@sapporo.example"))
    return part.render(part.most)     # as the command line says it


def _template_fields() -> str:
    from renkei_xl.cycle.letters import render_template

    return _refusal(lambda: render_template("".join(f"{{{n}}}" for n in _names()), 圏域名="テスト圏"))


def _central_cities() -> str:
    from renkei_xl.core.contract_read import Book, read_settings

    grid = [["基本設定"], ["圏域名", "テスト圏"], ["対象年度", 2023], ["基準日", None], ["概ね達成閾値", 0.85], [], [],
            ["市町村一覧"], ["市町村名", "区分", "担当部署", "メールアドレス"]] + [[n, "中心市"] for n in _names()]
    names = {"圏域名": ("設定", "B2"), "対象年度": ("設定", "B3"), "基準日": ("設定", "B4"), "概ね達成閾値": ("設定", "B5")}
    return _refusal(lambda: read_settings(Book({"設定": grid}, names)))


def _unreturned() -> str:
    from renkei_xl.cycle.export import unreturned_note

    return unreturned_note(_names())


def _partly_sent() -> str:
    from renkei_xl.cycle.smtp import _partly_refused

    served = {f"s{i}@example.jp": f"第{i}町" for i in range(MANY)}
    refused = {f"r{i}@example.jp": (550, b"5.1.1 unknown") for i in range(MANY)}
    # The --to addresses are a command to copy, kept whole: the names are what must stay short.
    text = str(_partly_refused(refused, {**served, **{a: f"第{i}村" for i, a in enumerate(refused)}}))
    return text.split("宛先を指定するときは")[0]


def _had() -> str:
    from renkei_xl.core.send_record import ACCEPTED, UNKNOWN, Decision, had_lines

    had = tuple((f"a{i}@example.jp", ACCEPTED) for i in range(MANY)) + tuple((f"u{i}@example.jp", UNKNOWN)
                                                                              for i in range(MANY))
    return "\n".join(had_lines(Decision(send=(), had=had), {}))


def _rollover_done(unreturned=(), folder: str = "", **fields):
    from renkei_xl.core.rollover import RolloverReport
    from renkei_xl.cycle.rollover import RolloverDone

    report = RolloverReport(2023, 2024, 80, 0, [], 80, fields.pop("errors", ()), **fields)
    return RolloverDone(Path(folder, "m_2024.xlsm"), report, master=Path(folder, "m_2023.xlsm"), unreturned=unreturned)


def _rollover(**fields) -> str:
    from renkei_xl.cycle.rollover import rollover_lines

    return "\n".join(rollover_lines(_rollover_done(**fields)))


def _input_errors() -> tuple[Finding, ...]:
    return tuple(Finding("unreadable", "エラー", n, "E2", "04-1", "実績値が読めません") for n in _names())


def _replaced() -> tuple:
    """Records of 経年 a rollover replaced (core.history.overwritten), one a town."""
    from renkei_xl.core.history import YearRecord

    return tuple((f"E{i}", "04-1", YearRecord("17件", "◎"), YearRecord("", "―")) for i in range(2, MANY + 2))


def _carried(**fields) -> str:
    from renkei_xl.core.carry import CarryReport
    from renkei_xl.cycle.rollover import YearCarried, carried_lines
    from renkei_xl.workbook.session import Written

    report = CarryReport(2023, 80, False, 80, 0, fields.pop("errors", ()), (), **fields)
    return "\n".join(carried_lines(YearCarried(report, Written(Path("m_2024.xlsm")), Path("m_2023.xlsm"))))


def _rows_missing() -> SimpleNamespace:
    """A split whose municipality sheets all lack an indicator's row (distribute._missing_rows)."""
    return SimpleNamespace(missing=[Finding("missing-row", "警告", n, "", "01-1", "行がありません") for n in _names()])


def _split_cautions() -> str:
    from renkei_xl.cycle.distribute import split_cautions

    return "\n".join(split_cautions(_rows_missing()))


def _no_denominator() -> str:
    from renkei_xl.core.methods import ConsolidationError
    from renkei_xl.core.methods import ratio

    with pytest.raises(ConsolidationError) as exc:
        ratio([Entry(n, "01-1", value="1") for n in _names()])
    return str(exc.value)


def _states_differ() -> str:
    from renkei_xl.core.methods import ConsolidationError
    from renkei_xl.core.methods import agreed_state

    with pytest.raises(ConsolidationError) as exc:
        agreed_state([Entry(n, "01-1", value="維持" if i % 2 else "開設") for i, n in enumerate(_names())])
    return str(exc.value)


def _units_differ() -> str:
    from renkei_xl.core.methods import ConsolidationError
    from renkei_xl.core.methods import sum_with_breakdown

    with pytest.raises(ConsolidationError) as exc:
        sum_with_breakdown([Entry(n, "01-1", value="1件" if i % 2 else "1円") for i, n in enumerate(_names())])
    return str(exc.value)


# (message, how many it names in all): each a message that named every item.
CASES = {
    "split: municipalities without their sheets": (_split, MANY),
    "init: entries of municipalities 設定 does not list": (_unknown_entries, MANY),
    "split --eml: municipalities without an address": (_no_mail, MANY),
    "split --eml: municipalities sharing one address": (_one_address, MANY),
    "split --eml: template fields without a value": (_template_fields, MANY),
    "設定: more than one 中心市": (_central_cities, MANY),
    "export: municipalities not collected": (_unreturned, MANY),
    "export --smtp: recipients served": (_partly_sent, MANY),
    "export --smtp: recipients sent before": (_had, MANY),
    "rollover: municipality sheets 設定 does not list": (lambda: _rollover(unlisted=tuple((n, 3) for n in _names())), MANY),
    "rollover: staff's columns beside 一覧": (lambda: _rollover(list_heads=tuple(_names())), MANY),
    "rollover: municipalities not collected": (lambda: _rollover(unreturned=tuple(_names())), MANY),
    "rollover: input errors of the closed year": (lambda: _rollover(errors=_input_errors()), MANY),
    "history import: sheets of no municipality of the year": (lambda: _carried(unmatched=tuple(_names())), MANY),
    "history import: input errors of the year": (lambda: _carried(errors=_input_errors()), MANY),
    "split: municipality sheets lacking an indicator's row": (_split_cautions, MANY),
    "recalc: 比率 rows without a denominator": (_no_denominator, MANY),
    "recalc: municipalities whose 状態 differ": (_states_differ, MANY // 2),
    "recalc: municipalities whose units differ": (_units_differ, MANY // 2),
}


@pytest.mark.parametrize("name", CASES)
def test_a_message_naming_thousands_stays_short_and_counts_the_rest(name):
    make, total = CASES[name]
    text = make()
    assert len(text) < ALERT_CHARS, f"{len(text):,} characters: {text[:300]}…"
    # the first LISTED named, MUNICIPALITIES_LISTED where the items are municipalities,
    # LISTED_FINDINGS where they are a run's findings (input errors)
    assert any(f"ほか {count_text(total - named)} " in text
               for named in (LISTED, MUNICIPALITIES_LISTED, LISTED_FINDINGS)), text


# ----------------------------------------------------------------- both faces, one cut

def _rollover_faces(**fields):
    """rollover's message as a button shows it (excel.buttons._rollover) and as the command prints it."""
    from renkei_xl.cycle.rollover import rollover_lines, rollover_parts

    done = _rollover_done(**fields)
    return [*rollover_parts(done), "", "新しいマスターを開き、「配布用ファイル作成」から新しい年度の作業を始めてください。"], \
        "\n".join(rollover_lines(done))


def _export_faces():
    from renkei_xl.cycle.export import unreturned_note, unreturned_parts

    return unreturned_parts(_names()), unreturned_note(_names())


def _stale_faces():
    """確定版を書き出し's 【注意】 of a 一覧 that differs in some rows, and its step."""
    from renkei_xl.cycle.export import stale_note, stale_parts

    ids = [f"{i:02d}-1" for i in range(1, 41)]
    return stale_parts(ids, 80), stale_note(ids, 80)


def _written_faces():
    """配布用ファイル作成's list of the files it made: the button's part, the command's lines."""
    from renkei_xl.cycle.distribute import written_listing, written_lines

    files = [Path("out", f"{n}_2023年度_入力.xlsx") for n in _names()]
    return [written_listing(files)], "\n".join(written_lines(files, Path("out"))[1:])


def _split_faces():
    from renkei_xl.cycle.distribute import caution_listings

    return caution_listings(_rows_missing()), _split_cautions()


def _collect_report(n: int = MANY, name=lambda m: f"{m}_2023年度_入力.xlsx", **found):
    """A collect of ``n`` returns, one a town, each changing a cell; ``found``: held, kept or
    noted findings of every file (CollectReport's by-file lists)."""
    import datetime as dt

    from renkei_xl.cycle.collect.records import Change, CollectReport, ImportRecord

    towns = _names(n)
    records = [ImportRecord(name(m), m, dt.datetime(2024, 4, 1), 1, "0" * 64, None) for m in towns]
    changes = [Change(m, "G20", "04-1", "実績値", "", i) for i, m in enumerate(towns)]
    by_file = {kind: [(name(m), [Finding("x", "警告", m, "G21", "05-1", "値を確かめてください")]) for m in towns]
               for kind in found}
    return CollectReport(changes, [], records, **by_file)


def _as_button(make):
    """``make()`` as a button's click makes it (core.face.BY_BUTTON, set by excel.buttons)."""
    from renkei_xl.core.face import BY_BUTTON

    token = BY_BUTTON.set(True)
    try:
        return make()
    finally:
        BY_BUTTON.reset(token)


def _collect_faces(report):
    """回収ファイル取込's lists: the button's parts (excel.buttons._collect), the command's lines."""
    from renkei_xl.cycle.collect.said import collect_lines, collect_parts

    parts = _as_button(lambda: collect_parts(report))
    return parts[1:] if parts[:1] == [""] else parts, "\n".join(collect_lines(report))


# (a button's parts, the command line's text) of one message whose list grows with the input,
# and whether the command line's text fits a button's box (then both faces say the same cut)
FACES = {
    "rollover: municipalities not collected": (lambda: _rollover_faces(unreturned=tuple(_names())), True),
    "rollover: input errors of the closed year": (lambda: _rollover_faces(errors=_input_errors()), True),
    # a share's long folder: the button names fewer of each to fit
    "rollover: both, in a deep folder": (lambda: _rollover_faces(
        unreturned=tuple(_names()), errors=_input_errors(), folder="/srv/" + "連携中枢都市圏の事業/" * 20), False),
    # a Detail cut at a hand-written five: a short box dropped it whole (cycle.rollover.overwritten_parts)
    "rollover: records of 経年 replaced": (lambda: _rollover_faces(overwritten=_replaced()), True),
    "export: municipalities not collected": (_export_faces, True),
    "export: rows of 一覧 that differ": (_stale_faces, True),
    "split: municipality sheets lacking an indicator's row": (_split_faces, True),
    "split: the files made": (_written_faces, True),
    # 2,000 returns: the command line printed a line a file and a line a cell, 4,000 lines
    "collect: many returns": (lambda: _collect_faces(_collect_report()), False),
    "collect: files and cells, short names": (lambda: _collect_faces(_collect_report(30, lambda m: f"{m}.xlsx")), True),
    "collect: cells left out, kept, warned of": (
        lambda: _collect_faces(_collect_report(40, lambda m: f"{m}.xlsx", held_by_file=1, kept_by_file=1,
                                               noted_by_file=1)), False),
}


@pytest.mark.parametrize("name", FACES)
def test_both_faces_name_the_same_first_items_and_count_the_rest_alike(name):
    """The command line printed rollover's 2,000 uncollected municipalities whole, and export
    named 20 where the button named as many as its box held: each face cut the list its own
    way. The Listing says how many it names (its cap); the command line names that many, the
    button as many when they fit, fewer only to fit, the rest counted from there."""
    make, fits = FACES[name]
    parts, said = make()
    shown = alert_text(parts)
    assert (cell_length(said) <= BUTTON_CHARS) == fits, cell_length(said)
    listings = [p for p in parts if isinstance(p, Listing) and p.items]
    assert listings
    fewer = False
    for p in listings:
        assert p.most < len(p.items), p.head
        assert p.render(p.most) in said, said[:500]     # the command line: its cap, the rest counted
        # the button: the same first items, the rest counted from there
        named = next((k for k in range(p.most, -1, -1) if p.render(k) in shown), None)
        assert named is not None and named >= p.vital, shown
        assert named == p.most or not fits, shown
        fewer = fewer or named < p.most
    assert fewer != fits, shown      # the case that does not fit shows the button's own cut
    if fits:    # the same lines: export printed the 【注意】 and its step on one line, joined by 「。」
        lines = said.split("\n")       # (the button may close with a step of its own)
        assert shown.split("\n")[:len(lines)] == lines, (said, shown)


def test_collect_says_where_the_refused_files_not_listed_are_in_each_faces_words():
    """The button counts the refused files it has no room for with 「もう一度「回収ファイル取込」を押す
    と…表示します」; the command line printed every one. Now it lists as many as the button's cap
    and says its own step: no record holds refusals but the folder, so the next run lists them."""
    from renkei_xl.cycle.collect.records import Refusal
    from renkei_xl.cycle.collect.said import SHOWN_FILES, collect_lines, collect_parts

    report = _collect_report(0)
    report.refusals = [Refusal(Path("回収", f"{m}.xlsx"), "ファイルが壊れています") for m in _names()]
    lines = collect_lines(report)
    assert len(lines) == SHOWN_FILES + 2 and lines[-1] == (
        f"　…ほか {count_text(MANY - SHOWN_FILES)} 件（上のファイルを直すか回収フォルダーから移してから、"
        "もう一度 renkei-xl collect を実行すると、残りのファイルと理由を表示します）"), lines
    [button] = [p for p in _as_button(lambda: collect_parts(report)) if isinstance(p, Listing)]
    assert "もう一度「回収ファイル取込」を押すと" in button.more and button.items[:SHOWN_FILES] == lines[1:-1]


def _late_return() -> str:
    from renkei_xl.core.carry import catch_up
    return catch_up(2023, "m2024.xlsm", "m2023.xlsm")


def _closed_year_stale() -> str:
    from renkei_xl.core.alerts import printed
    from renkei_xl.cycle.rollover import closed_year_stale
    return "\n".join(printed(closed_year_stale(["01-1"], 80, 2023, "m2023.xlsm")))


def _export_stale() -> str:
    from renkei_xl.core.alerts import printed
    from renkei_xl.cycle.export import stale_parts
    return "\n".join(printed(stale_parts(["01-1"], 80, "m.xlsm")))


def _history_imported() -> str:
    from renkei_xl.cycle import rollover
    return rollover.reflected_line("m.xlsm")


def _collect_next() -> str:
    from renkei_xl.cycle.collect.records import recalc_next
    return recalc_next("m.xlsm")


def _refused_not_listed() -> str:
    from renkei_xl.cycle.collect.said import refused_more
    return refused_more()


def _master_among_returns() -> str:
    from renkei_xl.core.book_kind import MASTER, BookKind, not_a_return
    return not_a_return(BookKind(MASTER))


# Messages made once in core and cycle that name an action, a case a message class.
FACE_MESSAGES = {"late return's 【注意】": _late_return, "closed year's stale 一覧": _closed_year_stale,
                 "export's stale 一覧": _export_stale, "history import's last line": _history_imported,
                 "a master among the returns": _master_among_returns,
                 "collect's next step": _collect_next, "collect's refused files not listed": _refused_not_listed}


@pytest.mark.parametrize("name", sorted(FACE_MESSAGES))
def test_each_face_names_its_own_way_to_do_what_a_message_asks(name):
    """A message both faces show says the step in the reader's face: a button's caption on a
    button, the command with its file on the command line (core.face.step). The command
    line was told 「「評価を再計算」を押して」 after its own 「renkei-xl recalc …」; history import,
    which no button runs, 「次に「評価を再計算」したときに」 with no command; a button, to give the
    master 「renkei-xl collect の最初に」."""
    said = FACE_MESSAGES[name]
    command = said()
    assert "renkei-xl" in command and "押" not in command and "ボタン" not in command, command
    button = _as_button(said)
    assert "renkei-xl" not in button.replace("renkei-xl history import", ""), button


def test_collects_next_step_is_a_command_staff_can_copy():
    """The command line said 「続けて「評価を再計算」を実行してください: renkei-xl recalc 受付 2024年度.xlsm」:
    the button's caption in its words, the path as typed, which split at its space when copied."""
    from renkei_xl.cycle.collect.records import recalc_next

    assert recalc_next("受付 2024年度.xlsm") == '続けて renkei-xl recalc "受付 2024年度.xlsm" を実行してください。'
    assert _as_button(lambda: recalc_next("受付 2024年度.xlsm")) == "続けて「評価を再計算」を押してください。"


def _sheet_deleted() -> str:
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    WritePlan([], [CellEdit("小樽市", 5, 9, 1)]).refuse_missing([])
    return ""


def _text_too_long() -> str:
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.core.values import CELL_TEXT_LIMIT
    WritePlan([], [CellEdit("小樽市", 5, 9, "x" * (CELL_TEXT_LIMIT + 1))]).refuse_long_texts()
    return ""


def _system_refused() -> str:
    import errno

    from renkei_xl.safety import refused_remedy
    return refused_remedy(OSError(errno.EIO, "I/O error"), "", "")


def _utf16_part() -> str:
    from renkei_xl.package.xml import check_xml_chars
    check_xml_chars("xl/workbook.xml", "<?xml version='1.0' encoding='UTF-16'?><a>\x01</a>".encode("utf-16"))
    return ""


def _book_elsewhere() -> str:
    from renkei_xl.workbook.sheet_checks import book_elsewhere_refusal
    return book_elsewhere_refusal("xl/other.xml")


def _path_too_long() -> str:
    from renkei_xl.core.filenames import path_too_long
    return path_too_long("C:\\" + "長" * 200, "m.xlsx")


def _stale_result_hint() -> str:
    from renkei_xl.core.findings import STALE_RESULT
    return STALE_RESULT.at("指標", "K5", label="実績値").hint


def _out_of_memory() -> str:
    from renkei_xl.core.errors import out_of_memory
    return out_of_memory()


def _folder_refused(tmp: Path) -> str:
    from renkei_xl.safety import _new_temp_file
    _new_temp_file(tmp / "なし", "x", ".xlsx")      # no such folder: refused, nothing made
    return ""


def _next_master_named_for_another_year() -> str:
    from renkei_xl.cycle.rollover import _check_target_year
    _check_target_year(Path("さっぽろ圏_2023年度_マスター.xlsm"), 2024)
    return ""


# Refusals that ask for the same run again and know no caption or command (core.face.again):
# a write plan's rules and the file refusals of the command line and the PC's buttons, and
# those made once in the package, workbook, core and cycle, which said 「もう一度実行して」 on
# a button (the last three: once made at import, before the face was known).
AGAIN_REFUSALS = {"a sheet deleted before the write": _sheet_deleted, "a text too long for a cell": _text_too_long,
                  "a file the system refused": _system_refused, "a part in UTF-16": _utf16_part,
                  "a book whose workbook part is elsewhere": _book_elsewhere, "a path too long": _path_too_long,
                  "a next master named for another year": _next_master_named_for_another_year,
                  "the memory run out": _out_of_memory,
                  "a folder chosen that refuses": _folder_refused}


@pytest.mark.parametrize("name", sorted(AGAIN_REFUSALS))
def test_a_refusal_asks_for_the_run_again_in_the_faces_words(name, tmp_path):
    """Each caller gave the write plan's refusals its face's words, and the PC's buttons said
    「もう一度実行してください」 where the plan or a file refused without them (the rollover's
    button writes its new master as the command line does)."""
    from renkei_xl.core.errors import UserError

    def said() -> str:
        try:
            made = AGAIN_REFUSALS[name]
            return made(tmp_path) if name == "a folder chosen that refuses" else made()
        except UserError as exc:
            return str(exc)

    command, button = said(), _as_button(said)
    assert "もう一度実行して" in command and "ボタン" not in command, command
    assert "もう一度ボタンを押して" in button and "実行して" not in button, button


def test_a_finding_reads_alike_whichever_face_wrote_it():
    """A finding is written into 検証結果, which both faces write alike: a hint in the face's
    words (a stale formula result's, 「もう一度ボタンを押して」 after a click) made the master's sheet
    differ by who checked it last."""
    assert _as_button(_stale_result_hint) == _stale_result_hint()


@pytest.mark.parametrize("done", [True, False])
def test_each_heading_of_a_collect_is_said_in_the_tense_of_what_it_did(done):
    """After an import the command said 「取り込まなかったセル…取り込みました」 and, below it,
    「入力チェックで警告になるセル 2 か所（取り込みます）」; its --dry-run said 「…値を残したセル」 of
    cells nothing was written to. Every heading of one message now says what happened, or
    what the import would do when nothing was written."""
    from renkei_xl.cycle.collect.said import collect_parts

    report = _collect_report(2, lambda m: f"{m}.xlsx", held_by_file=1, kept_by_file=1, noted_by_file=1)
    heads = [p.head for p in collect_parts(report, done=done) if isinstance(p, Listing) and p.head]
    assert len(heads) >= 4, heads
    past, future = ("取り込みました", "残した", "書き換えた"), ("取り込みます", "残す", "書き換える")
    said, unsaid = (past, future) if done else (future, past)
    assert [h for h in heads if any(w in h for w in unsaid)] == [], heads
    assert sum(any(w in h for w in said) for h in heads) >= 3, heads


def _held(n: int, value: str = "約10件") -> list[Finding]:
    from renkei_xl.core import findings as F

    return [F.NOT_A_NUMBER.at("札幌市", f"G{20 + i}", f"{i:02d}-1", value=value) for i in range(n)]


@pytest.mark.parametrize("n, value, whole", [(50, "約10件", True), (1_000, "約" + "1" * 40 + "件", False)])
def test_the_import_log_records_every_cell_left_out_within_one_cell(n, value, whole):
    """取込履歴's 取り込まなかったセル listed 20 cells and counted the rest, which no record
    named (入力チェック does not: the master keeps a value its rules accept), while the
    message said the rest were there. Every cell is there now, with its reason while they
    fit one cell, by place alone past that."""
    from renkei_xl.core.values import CELL_TEXT_LIMIT
    from renkei_xl.cycle.collect.records import held_cells

    found = _held(n, value)
    said = held_cells(found)
    assert cell_length(said) <= CELL_TEXT_LIMIT and "ほか" not in said, said[-200:]
    assert all(f"{f.place}（" in said if whole else f"{f.place}、" in said + "、" for f in found), said[-200:]
    assert said.startswith(f"{count_text(n)} か所（多いため場所だけを記録") != whole, said[:100]
    # the message lists ten and sends staff here for the rest: the record may not send them back
    assert "メッセージ" not in said, said[:100]


def test_a_return_whose_cells_left_out_no_cell_can_hold_is_refused_whole(monkeypatch):
    """More cells left out than 取込履歴's one cell can name even by place: importing the rest
    would leave cells no record names, so nothing of the file is taken, and why is said."""
    import renkei_xl.cycle.collect as collect
    from renkei_xl.cycle.collect.records import Submission

    sub = Submission(Path("札幌市.xlsx"), "0" * 64, "札幌市", None, {"99-1": {"value": 5}}, held=tuple(_held(5_000)))
    monkeypatch.setattr(collect, "_read_returns", lambda *a: ([sub], []))
    data = SimpleNamespace(entries=[], settings=SimpleNamespace(fiscal_year=2023))
    report = collect.plan_collect(data, [Path("回収")])
    assert not report.records and not report.changes and not report.held, report.records
    [refusal] = report.refused
    assert refusal.reason.startswith("誤りのあるセルが 5,000 か所あり、シート「取込履歴」の「取り込まなかったセル」の"
                                     "1 つのセルに記録しきれないため、このファイルからは何も取り込みません"), refusal.reason


def test_listed_names_the_first_and_counts_the_rest():
    assert listed(["札幌市", "小樽市"]) == "札幌市、小樽市"
    assert listed(_names(), "町") == f"第1町、第2町、第3町、第4町、第5町 ほか {MANY - 5:,} 町" and LISTED == 5
    twelve = listed(_names()[:12], "市町村")          # a region's municipalities are named in full
    assert twelve.count("、") == 11 and "ほか" not in twelve, twelve
    assert listed(_names(), "市町村").endswith(f" ほか {MANY - MUNICIPALITIES_LISTED:,} 市町村")
    assert listed(["A1", "A2"], "か所", total=9) == "A1、A2 ほか 7 か所"     # a scan that stopped naming
    assert listed([]) == ""
    from renkei_xl.core.alerts import listed_names

    for unit in ("町", "市町村"):       # a button's list of names: values.listed's cut at its most
        names = listed_names(_names(), unit, head="頭: ")
        assert names.render(names.most) == "頭: " + listed(_names(), unit)


# ----------------------------------------------------------------- a new unbounded join

# The joins of 「、」 whose items are few by nature, by module and function. A join anywhere
# else goes through values.listed; one added here says why its list cannot grow with the input.
BOUNDED_BY_NATURE = {
    ("renkei_xl/server/app.py", "_ran"),                  # the Subs the master's macros lack (the tool's set)
    ("renkei_xl/server/log.py", "_say"),                  # the log's outcomes (the server's set)
    ("renkei_xl/server/limits.py", "refusal"),            # the three largest sheets (sliced above the join)
    ("renkei_xl/vba/missing.py", "missing_said"),         # the tool's modules and buttons
    ("renkei_xl/cli/workbook.py", "_upgrade_said"),       # the tool's modules and buttons
    ("renkei_xl/cli/parser.py", "_choices"),              # a command's choices
    ("renkei_xl/cli/parser.py", "_invalid_choice"),
    ("renkei_xl/cycle/letters.py", "render_template"),    # the fields a template may use (the tool's set)
    ("renkei_xl/core/validate.py", "_indicator_findings"),  # the 集計方法 and 評価方法 choices
    ("renkei_xl/core/contract_read.py", "read_indicators"),  # the 基本KPI marks
    ("renkei_xl/core/values.py", "normalize_list"),       # a typed value's own pieces, put back together
    ("renkei_xl/core/gaps.py", "_numeric_gap"),           # □ and ◎: two parts at most
    ("renkei_xl/core/gaps.py", "_meta_gap"),
    # A published cell's text, not a message: 一覧's breakdown 「（札幌市6件、小樽市1件、千歳市1件）」
    # names every municipality as the official list does, and is cut to a cell (values.fit_cell);
    # 次の一歩's 未入力の市町村 likewise (gaps._missing_text).
    ("renkei_xl/core/methods.py", "sum_with_breakdown"),
    ("renkei_xl/core/methods.py", "participants"),
    ("renkei_xl/core/methods.py", "agreed_state"),
    ("renkei_xl/core/methods.py", "roll_up"),
    ("renkei_xl/core/gaps.py", "_missing_text"),
    # A record, not a message: 取込履歴's 取り込まなかったセル names every cell a file had left
    # out, within one cell (a file whose cells it cannot hold is refused whole).
    ("renkei_xl/cycle/collect/records.py", "held_cells"),
    ("renkei_xl/core/held.py", "was_text"),               # held_cells' cells again, refused past one cell (held_was)
}


def comma_joins(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """(module, function) of each 「、」.join(…) not fed a slice (``items[:5]``)."""
    return _functions_calling(root, "、", lambda node: (
        isinstance(node.func, ast.Attribute) and node.func.attr == "join" and isinstance(node.func.value, ast.Constant)
        and node.func.value.value == "、" and not _sliced(node.args[0] if node.args else None)))


def _functions_calling(root: Path, marker: str, hit) -> set[tuple[str, str]]:
    """(module, function) of each call ``hit`` takes, in the modules below ``root`` whose text
    holds ``marker`` (the others are not parsed)."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if marker not in text:
            continue
        for func in ast.walk(_tree(text)):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if any(isinstance(node, ast.Call) and hit(node) for node in ast.walk(func)):
                found.add((path.relative_to(root.parent).as_posix(), func.name))
    return found


def _sliced(arg) -> bool:
    """Whether a join's items are the first few of a list by the one rule: ``x[:LISTED]``, or
    a generator over one. ``x[:5]`` is a cap of its own: rollover named its new words as
    「a、b、c、d、e など」, five of them, where every other list named values.LISTED and
    counted the rest, and this check took it for bounded."""
    if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
        arg = arg.generators[0].iter
    return (isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Slice) and arg.slice.upper is not None
            and not _literal(arg.slice.upper))


def _literal(node) -> bool:
    """A number written where a list is cut (a cap of its own, not the rule's)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, int)


def test_a_list_that_grows_is_joined_in_one_place():
    joins = comma_joins()
    assert BOUNDED_BY_NATURE <= joins, f"no longer joined, take them out: {sorted(BOUNDED_BY_NATURE - joins)}"
    unbounded = joins - BOUNDED_BY_NATURE
    assert not unbounded, ("join these with core.values.listed, or say here why their items are few by nature: "
                           + ", ".join(f"{p}:{f}" for p, f in sorted(unbounded)))


def test_the_join_check_sees_a_new_one(tmp_path):
    (tmp_path / "m.py").write_text('def f(names):\n    return "、".join(names), "、".join(names[:LISTED])\n'
                                   'def g(cells):\n    return f"{\'、\'.join(c for c in cells[:LISTED])}"\n'
                                   'def h(cells):\n    return "、".join(cells[:5])\n', encoding="utf-8")
    assert comma_joins(tmp_path) == {(f"{tmp_path.name}/m.py", "f"), (f"{tmp_path.name}/m.py", "h")}


# ----------------------------------------------------------------- a Listing without its cap

# The Listings made without a cap, by module and function: a button's own message, which its
# box bounds (core.alerts.alert_text). A Listing made anywhere else is said by the command
# line too, at its most (Listing.most): without a cap it printed the whole list (rollover's
# 2,000 uncollected municipalities), and the two faces cut the same list differently.
# collect's lists were here, printed by the command line one a line, every file and cell
# (CollectReport.lines); both faces now say them (cycle.collect.said).
BUTTON_ONLY: set[tuple[str, str]] = set()


def uncapped_listings(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """(module, function) of each ``Listing(…)`` made without a cap (its third argument), or
    with a cap of its own (``cap=5``: rollover listed its targets past at ten and its notes at
    five, each a number of its own, where the rule is values.listed_limit's)."""
    def capped(node) -> bool:
        caps = node.args[2:3] + [k.value for k in node.keywords if k.arg == "cap"]
        return any(k.arg is None for k in node.keywords) or any(not _literal(cap) for cap in caps)

    return _functions_calling(root, "Listing(", lambda node: (
        isinstance(node.func, ast.Name) and node.func.id == "Listing" and not capped(node)))


def test_a_listing_both_faces_say_names_its_cap():
    found = uncapped_listings()
    assert BUTTON_ONLY <= found, f"capped now, take them out: {sorted(BUTTON_ONLY - found)}"
    uncapped = found - BUTTON_ONLY
    assert not uncapped, ("give these Listings a cap (core.alerts.listed_names for names counted as values.listed "
                          "counts them), or say here why only a button shows them: "
                          + ", ".join(f"{p}:{f}" for p, f in sorted(uncapped)))


def test_the_listing_check_sees_a_new_one(tmp_path):
    (tmp_path / "m.py").write_text('def f(names):\n    return Listing(names, "ほか {n} 件")\n'
                                   'def g(names):\n'
                                   '    return Listing(names, "ほか {n} 件", cap=LISTED), Listing(names, "", LISTED)\n'
                                   'def h(names):\n    return Listing(names, "", cap=5)\n', encoding="utf-8")
    assert uncapped_listings(tmp_path) == {(f"{tmp_path.name}/m.py", "f"), (f"{tmp_path.name}/m.py", "h")}

