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

from renkei_xl.core.alerts import ALERT_CHARS, Listing
from renkei_xl.core.errors import UserError
from renkei_xl.core.model import Entry, Municipality, Settings
from renkei_xl.core.values import LISTED, MUNICIPALITIES_LISTED, count_text, listed
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


def _rollover(**fields) -> str:
    from renkei_xl.core.rollover import RolloverReport
    from renkei_xl.cycle.rollover import RolloverDone, rollover_lines

    report = RolloverReport(2023, 2024, 80, 0, [], 80, (), **fields)
    return "\n".join(rollover_lines(RolloverDone(Path("m_2024.xlsm"), report, master=Path("m_2023.xlsm"))))


def _carried() -> str:
    from renkei_xl.core.carry import CarryReport
    from renkei_xl.cycle.rollover import YearCarried, carried_lines
    from renkei_xl.workbook.session import Written

    report = CarryReport(2023, 80, False, 80, 0, (), (), unmatched=tuple(_names()))
    return "\n".join(carried_lines(YearCarried(report, Written(Path("m_2024.xlsm")), Path("m_2023.xlsm"))))


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
    "history import: sheets of no municipality of the year": (_carried, MANY),
    "recalc: 比率 rows without a denominator": (_no_denominator, MANY),
    "recalc: municipalities whose 状態 differ": (_states_differ, MANY // 2),
    "recalc: municipalities whose units differ": (_units_differ, MANY // 2),
}


@pytest.mark.parametrize("name", CASES)
def test_a_message_naming_thousands_stays_short_and_counts_the_rest(name):
    make, total = CASES[name]
    text = make()
    assert len(text) < ALERT_CHARS, f"{len(text):,} characters: {text[:300]}…"
    # the first LISTED named, or MUNICIPALITIES_LISTED where the items are municipalities
    assert any(f"ほか {count_text(total - named)} " in text for named in (LISTED, MUNICIPALITIES_LISTED)), text


def test_listed_names_the_first_and_counts_the_rest():
    assert listed(["札幌市", "小樽市"]) == "札幌市、小樽市"
    assert listed(_names(), "町") == f"第1町、第2町、第3町、第4町、第5町 ほか {MANY - 5:,} 町" and LISTED == 5
    twelve = listed(_names()[:12], "市町村")          # a region's municipalities are named in full
    assert twelve.count("、") == 11 and "ほか" not in twelve, twelve
    assert listed(_names(), "市町村").endswith(f" ほか {MANY - MUNICIPALITIES_LISTED:,} 市町村")
    assert listed(["A1", "A2"], "か所", total=9) == "A1、A2 ほか 7 か所"     # a scan that stopped naming
    assert listed([]) == ""


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
}


def comma_joins(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """(module, function) of each 「、」.join(…) not fed a slice (``items[:5]``)."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "、" not in text:
            continue
        for func in ast.walk(_tree(text)):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
                        and isinstance(node.func.value, ast.Constant) and node.func.value.value == "、"
                        and not _sliced(node.args[0] if node.args else None)):
                    found.add((path.relative_to(root.parent).as_posix(), func.name))
    return found


def _sliced(arg) -> bool:
    """Whether a join's items are the first few of a list: ``x[:5]``, or a generator over one."""
    if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
        arg = arg.generators[0].iter
    return isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Slice) and arg.slice.upper is not None


def test_a_list_that_grows_is_joined_in_one_place():
    joins = comma_joins()
    assert BOUNDED_BY_NATURE <= joins, f"no longer joined, take them out: {sorted(BOUNDED_BY_NATURE - joins)}"
    unbounded = joins - BOUNDED_BY_NATURE
    assert not unbounded, ("join these with core.values.listed, or say here why their items are few by nature: "
                           + ", ".join(f"{p}:{f}" for p, f in sorted(unbounded)))


def test_the_join_check_sees_a_new_one(tmp_path):
    (tmp_path / "m.py").write_text('def f(names):\n    return "、".join(names), "、".join(names[:5])\n'
                                   'def g(cells):\n    return f"{\'、\'.join(c for c in cells[:3])}"\n', encoding="utf-8")
    assert comma_joins(tmp_path) == {(f"{tmp_path.name}/m.py", "f")}
