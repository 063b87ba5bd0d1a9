"""入力チェック: findings about 指標 and the municipality sheets, each pointing at one cell.

A finding is a record (type, severity, sheet, cell, 指標ID, message, hint), the way
frictionless-py reports errors, so the workbook adapter can list it on 検証結果, link the
cell and colour it, and the command line can print it, from the same object. The place
is the record's sheet and cell (検証結果 shows them in their own columns, collect prefixes
them); the message says what is wrong with the value and quotes it.

What staff report (municipality 実績値／分母, 指標's 実績値（手入力）) is read with
``parse_input``: one figure, so 「10件以上」「約10件」「10件（見込み）」「5未満」 are errors, and
so are negative numbers and fractional counts where the indicator counts things. Targets
and baselines keep the lenient ``parse_value`` (「15社以上」 is a target).

``input_errors`` answers, for one indicator, which of these errors sit in cells that feed
its 実績値. Consolidation uses it to refuse to roll such an indicator up (its 実績値 shows
「（入力エラー）」 and its evaluation is － naming the cell), so a value with an error never
reaches a total, a symbol or the 達成割合 row.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Iterable, Mapping, Optional, Sequence

from .lazy_pattern import LazyPattern
from . import contract as c
from .methods import (MANUAL_ALWAYS, MANUAL_FALLBACK, MANUAL_NEVER, NAMES as METHODS, NOBODY, feeding_entries,
                      input_unit, method_of, rate_lines, rates_others, replaces_status, reported_by, status_listed,
                      target_of)
from . import findings as F
from .choices import RULE_REFERENCE, RULES
from .lookalike import DOT_LIKE, first_difference, lookalike_findings
from .model import WARNING, Entry, Finding, Indicator, Settings
from .rules import answer_hint, rate_share, rule_warning, unanswered, unjudgeable
from .values import (CELL_TEXT_LIMIT, CONTROL, DASH_CHARS, EXCEL_CELL_TEXT, COUNT_FAMILIES, EMPTY, INVISIBLE,
                     NOTE_ANNUAL, NOTE_ANNUAL_UNTIL, NOTE_ASOF, NOTE_UNTIL, NUMBER, RANGE, STATUS, UNCOUNTED, UNPARSEABLE,
                     NO_RESULT_VALUE, Value, ValueParseError, boolean_value, cell_length, dash_mark, date_text, dropped_char,
                     error_value, format_number, hedged_figure, looks_empty, listed, may_be_unread, may_be_unseen,
                     normalize, parse_input, parse_value, shown, typed_percent, unit_family, unread_value, unseen_char,
                     unseen_kind)

# The headers a finding names its cell's column by (core.contract): 指標's 実績値（手入力）, a
# municipality sheet's 指標ID, 実績値, 分母 and 実施状況.
_ENTRY_ID = c.ENTRY_HEADERS["indicator_id"]
_ACTUAL_MANUAL = c.INDICATOR_HEADERS["actual_manual"]
_VALUE = c.ENTRY_HEADERS["value"]
_DENOMINATOR = c.ENTRY_HEADERS["denominator"]
_STATUS = c.ENTRY_HEADERS["status"]


def _labelled(fields) -> tuple[tuple[str, str], ...]:
    """(field, the header staff see on 指標) — messages name a cell by its column."""
    return tuple((f, c.INDICATOR_HEADERS[f]) for f in fields)


# Fields of 指標 that must not be empty.
REQUIRED = _labelled(c.INDICATOR_REQUIRED)
# Targets and baselines: read leniently (「15社以上」 is a target).
TARGET_FIELDS = _labelled(("baseline", "target"))
# Texts of 指標 that 一覧 shows as they are: each must fit one cell and hold no control
# character (Excel saves one as 「_x0007_」, read back as U+0007). 役割 is one of them: it
# heads its group on 一覧, and a control character in it was dropped there without a word.
TEXT_FIELDS = _labelled(("role", "project_name", "summary", "name", "status_manual"))


# What a row's symbol is judged by. An error in one of these cells leaves the row nothing to
# judge by, so it is 「－」（入力エラー） and counted out of the 達成割合 (pipeline, README): on
# 指標 its 指標ID (which rows feed it), 目標値, 基準値, 集計方法, 評価方法 and 基本KPI, and
# 実績値（手入力） where it feeds the row; on a municipality sheet the 指標ID, 実績値 and 分母 of
# the rows that feed it. Any other finding (役割 or 評価指標 left empty, a text too long for
# 一覧) is an error to fix before publishing and the row is judged: the symbol does not depend
# on it. An error value (or a formula without its result) in ANY cell of the row is the
# exception: 「#N/A」 in a 実施状況 is never printed as an empty text beside a symbol, so such a
# row is － too (input_errors; the reader's unread cells likewise, pipeline._read_errors).
JUDGED_FIELDS = ("id", "target", "baseline", "method", "rule", "is_kpi")

# Texts of 指標 and of a municipality row that are not parsed as values, but are read (an
# ID, a method, a status): an error value in them is as much a finding as in a number.
INDICATOR_TEXTS = _labelled(("id", "role", "project_name", "summary", "name", "method", "rule",
                             "status_manual"))
# 単位 is read too: it shows beside the value in next year's 前年度実績 and a target is judged
# against the units the rows show (_sheet_units), so 「#N/A」 there was a unit without a word.
ENTRY_TEXTS = tuple((f, c.ENTRY_HEADERS[f]) for f in ("indicator_id", "status", "unit"))
# The notes only a target is written with (「毎年度」, 「2025年度まで」): on a reported figure,
# the target copied (findings.ACTUAL_TARGET_NOTE).
TARGET_NOTES = (NOTE_ANNUAL, NOTE_UNTIL, NOTE_ANNUAL_UNTIL)
ENTRY_VALUES = tuple((f, c.ENTRY_HEADERS[f]) for f in ("value", "denominator"))


# Fields whose TRUE/FALSE has a finding of its own (odd-id: an ID that is no ID).
_ID_FIELDS = frozenset(("id", "indicator_id"))
# Fields read as values (a 分母 no method uses is read as a text, and is a value all the same).
_VALUE_FIELDS = frozenset(("value", "denominator"))


def uncached_formula_finding(sheet: str, cell: str, ind_id: str) -> Finding:
    """A formula saved without its result (a file written by a tool other than Excel): not
    empty, not zero, and Excel mends it by calculating and saving."""
    return F.NO_RESULT.at(sheet, cell, ind_id)


def missing_id_finding(e: Entry, ind_id: str) -> Finding:
    """A municipality row with a value but no 指標ID (``ind_id``: the indicator it may have
    been, for a reason; "" for the row itself)."""
    return F.MISSING_FIELD.at(e.sheet or e.municipality, e.cell("indicator_id"), ind_id, label=_ENTRY_ID,
                              where="（この行には値があります）", or_else="（または行を削除してください）")


def _text_errors(record, fields, sheet: str, ind_id: str, boolean_levels: Mapping[str, str] = {}) -> list[Finding]:
    """Error values and booleans in the texts ``fields`` of a row: neither is read as the
    text it shows (「#N/A」, 「TRUE」). ``boolean_levels``: field → a boolean's level where its
    text would not be published (a 実施状況 that 一覧 does not show: 警告)."""
    out = []
    for field, label in fields:
        raw = getattr(record, field)
        # error_value's own first test, and boolean_value's, without a call
        if type(raw) is str and not may_be_unread(raw):
            continue
        held = error_value(raw) or (boolean_value(raw) if field not in _ID_FIELDS else None)
        if held is not None:
            out.append(F.unread_found(sheet, record.cell(field), ind_id, label, held, as_value=field in _VALUE_FIELDS,
                                      boolean_level=boolean_levels.get(field)))
    return out


# What staff (or an IME) type between the parts of 「04-1」, after NFKC (full width folded): any
# dash (values.DASH_CHARS), a space (「04　1」 with the IME's full-width one), an underscore, a
# full stop (「。」 too) or a middle dot (lookalike.DOT_LIKE). A run of them is one separator.
_ID_SEPARATORS = LazyPattern("[" + re.escape(DASH_CHARS + DOT_LIKE + "_.。、") + r"\s]+")


@lru_cache(maxsize=1 << 16)
def id_key(ind_id: str) -> str:
    """An 指標ID as compared for likeness: width and its separator aside, so 「04‐1」 「04－1」
    「04　1」 「04_1」 「04.1」 all have 04-1's key (only 「‐」 「－」 「ー」 had: 「04　1」 typed with
    the IME's space was an ID 指標 lacks, not said to be 04-1's). NFKC would turn ― into a
    dash too, which is fine here: no symbol is read from an ID. Cached: validation asks it
    of every 指標ID on every recalculation, and the IDs stay the same."""
    return _ID_SEPARATORS.sub("-", unicodedata.normalize("NFKC", ind_id).strip())


def may_feed(e: Entry) -> bool:
    """Whether a municipality row could feed an indicator: it holds a value or a status, or
    its 指標ID is an error value (which indicator it was cannot be told). A row no indicator
    claims is named only then (pipeline.unattributed; contract_read.missing_rows)."""
    return bool(e.value or e.status) or error_value(e.indicator_id) is not None


def validate(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry]
             ) -> list[Finding]:
    findings: list[Finding] = []
    findings += _indicator_findings(indicators, settings.fiscal_year, _sheet_units(entries))
    findings += lookalike_findings(indicators)
    known = {i.id: i for i in indicators if i.id}
    entry_findings, bad_ids = _entry_findings(settings, known, entries)
    findings += entry_findings
    findings += _breakdown_findings(known, entries, bad_ids)
    findings += _set_aside_manual(settings, indicators, entries)
    return findings


def _set_aside_manual(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry]
                      ) -> list[Finding]:
    """A 実績値（手入力） its row does not use because the central city's sheet has a value
    (中心市のみ: 「2回」 there, 「3回」 typed here, 2回 published), said rather than dropped
    in silence; only where the two differ."""
    typed = {ind.id: ind for ind in indicators if ind.actual_manual.strip() and not dash_mark(ind.actual_manual)
             and (m := method_of(ind)) is not None and m.manual == MANUAL_FALLBACK}
    if not typed:    # nearly always
        return []
    mine: dict[str, list[Entry]] = {}
    for e in entries:    # one pass, however many rows have a 実績値（手入力）
        if e.indicator_id in typed:
            mine.setdefault(e.indicator_id, []).append(e)
    out: list[Finding] = []
    for ind in typed.values():
        rows, manual = feeding_entries(ind, mine.get(ind.id, []), settings)
        if manual or not rows or _same_value(rows[0].value, ind.actual_manual):
            continue
        e = rows[0]
        out.append(F.SET_ASIDE_ACTUAL.at(ind.sheet, ind.cell("actual_manual"), ind.id, value=shown(ind.actual_manual),
                                         method=ind.method, central=e.municipality, used=shown(e.value),
                                         place=f"{e.sheet or e.municipality}!{e.cell('value')}"))
    return out


def _same_value(a: str, b: str) -> bool:
    """Whether two typed values say the same: 「3」 「3回」 「３回」 are one number (a bare one
    counts in the row's unit, methods.with_unit); words as parsed."""
    try:
        va, vb = parse_input(a), parse_input(b)
    except ValueParseError:
        return a.strip() == b.strip()
    if va.kind == vb.kind == NUMBER:
        return va.number == vb.number and (not va.unit or not vb.unit or va.family == vb.family)
    return va[1:] == vb[1:]


def _parse(raw: str, sheet: str, cell: str, ind_id: str, label: str, out: list[Finding],
           strict: bool = False) -> Optional[Value]:
    """The parsed value, or None after adding the finding. ``strict``: an input (parse_input)."""
    held = unread_value(raw)
    if held is not None:
        out.append(F.unread_found(sheet, cell, ind_id, label, held, as_value=True))
        return None
    try:
        return parse_input(raw) if strict else parse_value(raw)
    except ValueParseError as exc:
        bound = _target_bound(raw, sheet, cell, ind_id) if exc.code == RANGE and label == TARGET_LABEL else None
        out.append(bound or F.UNREADABLE[exc.code].at(sheet, cell, ind_id, label=label, reason=exc))
        return None


TARGET_LABEL = c.INDICATOR_HEADERS["target"]


def _target_bound(raw: str, sheet: str, cell: str, ind_id: str) -> Optional[Finding]:
    """A target with 以下・未満・以内 (one to reduce, judged by 進捗率) or 超 (written with 以上):
    F.TARGET_BOUND, which says how; the parser's own reason (drop the word, as a report's
    bound is dropped) would turn a target to reduce into one to raise. 以上 with no number
    before it (「前年度以上」): F.TARGET_AT_LEAST, not the parser's 「以上…を付けず」, which a
    target may carry. None for any other range (「10～12」)."""
    t = normalize(raw)
    word = next((w for w in ("以下", "未満", "以内", "超") if w in t), None)
    if word is None:
        return F.TARGET_AT_LEAST.at(sheet, cell, ind_id, value=shown(raw)) if "以上" in t else None
    why, fix = F.TARGET_BOUND_ABOVE if word == "超" else F.TARGET_BOUND_BELOW
    return F.TARGET_BOUND.at(sheet, cell, ind_id, value=shown(raw), word=word, why=why, fix=fix.format(word=word))


def _parse_at(record, field: str, sheet: str, ind_id: str, label: str, out: list[Finding],
              strict: bool = False) -> Optional[Value]:
    """``_parse`` of ``record.field``, naming its cell only for a finding: naming a cell
    costs more than parsing a value (parsing is cached), and a 20,000-indicator master
    has hundreds of thousands of values and few findings."""
    raw = getattr(record, field)
    if error_value(raw) is None:
        try:
            return parse_input(raw) if strict else parse_value(raw)
        except ValueParseError:
            pass   # again below, with the cell, for the finding
    return _parse(raw, sheet, record.cell(field), ind_id, label, out, strict)


_HALF_CELL = CELL_TEXT_LIMIT // 2


def _check_text(record, field: str, sheet: str, ind_id: str, label: str, out: list[Finding]) -> None:
    """A text 一覧 shows (``record.field``): it must fit one cell and hold only characters a
    cell can hold. Its cell is named only for a finding, and a text of at most half the limit
    is not measured (a character is at most 2 UTF-16 units): 80,000 texts on a
    20,000-indicator master, nearly all short and clean (0.12 s → 0.03 s)."""
    text = getattr(record, field)
    if not text:
        return
    if type(text) is str and (bad := looks_empty(text)) is not None:
        # 「\u200b」 alone: published as a 役割 of its own, an 評価指標 without a name (qa-103).
        out.append(_control_character(record, field, sheet, ind_id, label, bad, LOOKS_EMPTY_EFFECT))
        return
    if len(text) <= CELL_TEXT_LIMIT // 2 and text.isprintable():   # illegal_char's own first test
        return
    n = cell_length(text) if len(text) > CELL_TEXT_LIMIT // 2 else 0
    if n > EXCEL_CELL_TEXT:     # more than any Excel cell holds (a file another tool wrote)
        out.append(F.TEXT_TOO_LONG.at(sheet, record.cell(field), ind_id, label=label, length=n,
                                      where=F.IN_EXCEL_CELL, limit=EXCEL_CELL_TEXT))
    elif n > CELL_TEXT_LIMIT:   # a full Excel cell: fine in itself, one more than the tool writes
        out.append(F.TEXT_CUT.at(sheet, record.cell(field), ind_id, label=label, length=n))
    bad = dropped_char(text)
    if bad is not None:
        out.append(_control_character(record, field, sheet, ind_id, label, bad, "一覧では取り除きます"))


def _control_character(record, field: str, sheet: str, ind_id: str, label: str, bad: str, effect: str) -> Finding:
    """A control character (values.dropped_char: or a bidirectional control) in a text, on its cell: ``effect`` says what
    it does to that text, which differs by the text (一覧 drops it from what it shows; a 単位
    is compared and quoted, _unit_findings)."""
    return F.UNREADABLE[CONTROL].at(sheet, record.cell(field), ind_id, label=label,
                                    reason=f"{unseen_kind(bad)}（U+{ord(bad):04X}）が含まれています（{effect}）")


# A text of nothing but characters that show as nothing (values.looks_empty): its cell looks
# empty, and it is no empty cell to the reader.
LOOKS_EMPTY_EFFECT = "セルは空欄に見えますが、空欄ではありません。文字を消すか、値を入力し直してください"


# A 単位 is no text 一覧 shows: it is compared with the target's (_sheet_units) and shown
# beside the value in next year's 前年度実績 and in reasons, where an invisible character
# makes 「件」 another unit than 「件」 (qa-94: it had no finding on either face).
UNIT_CONTROL_EFFECT = "見えない文字のため、目標値の単位と同じ単位として読めません。単位を入力し直してください"


def _unit_findings(e: Entry, sheet: str) -> list[Finding]:
    """A municipality row's 単位 holding a control character (Excel saves one typed or pasted
    as 「_x0007_」, a line break from Word is U+000B): an error on its cell, returned with the
    row's findings as an error value in 単位 is (a return's row is then held). The row is
    judged: 単位 is no field it is judged by, and _sheet_units leaves such a unit out, so the
    target is not compared with a unit staff cannot see."""
    unit = e.unit
    # Any character that shows as nothing (a zero-width space too: 「件\u200b」 is another unit
    # than 「件」, and 「\u200b」 alone looks like no unit), not only a control character (qa-103).
    bad = unseen_char(unit) if type(unit) is str and unit else None
    if bad is None:
        return []
    return [_control_character(e, "unit", sheet, e.indicator_id, c.ENTRY_HEADERS["unit"], bad, UNIT_CONTROL_EFFECT)]


def _sheet_units(entries: Sequence[Entry]) -> dict[str, set[str]]:
    """指標ID → the 単位 its municipality rows show (written from the target when the sheets
    were made): a target whose unit was changed since is judged against them."""
    out: dict[str, set[str]] = {}
    # Each distinct (指標ID, 単位) once: a row's unit recurs on every municipality's sheet,
    # and the loop over 240,000 entries of a 20,000 × 12 master was 4 % of a recalculation.
    for ind_id, unit in set(map(_ID_AND_UNIT, entries)):
        if unit and type(unit) is str and error_value(unit) is None and unseen_char(unit) is None:
            out.setdefault(ind_id, set()).add(unit)   # (an unreadable one has its own finding: _unit_findings)
    return out


_ID_AND_UNIT = attrgetter("indicator_id", "unit")
_INDICATOR_TEXT_VALUES = attrgetter(*(field for field, _label in INDICATOR_TEXTS))


def _indicator_findings(indicators: Sequence[Indicator], fiscal_year: int,
                        sheet_units: Optional[dict[str, set[str]]] = None) -> list[Finding]:
    """The findings of 指標's rows. One loop on purpose: it runs for each of 20,000 indicators
    on a large master, and the common row (nothing to say) is answered inline where it can be
    (perf-112), not through a helper's call per field."""
    out: list[Finding] = []
    sheet_units = sheet_units or {}
    seen: dict[str, Indicator] = {}
    alike: dict[str, Indicator] = {}    # id_key → the first ID read so
    rate_row: Optional[Indicator] = None
    # Texts found clean, each asked once (perf-114): 役割, 連携事業名, 事業概要, 集計方法 and
    # 評価方法 recur on many rows, and a text's answer does not depend on the row it is in.
    # unread: neither an error value nor a boolean (_text_errors' test); fitting: short,
    # printable and starting with a character one sees (the inline test of TEXT_FIELDS).
    unread_clean: set[str] = set()
    fitting: set[str] = set()
    for ind in indicators:
        sheet = ind.sheet
        if rates_others(ind):
            if rate_row is not None:
                out.append(F.SECOND_RATE_ROW.at(sheet, ind.cell("method"), ind.id, method=shown(ind.method),
                                                first=f"{rate_row.sheet}!{rate_row.cell('method')}"))
            else:
                rate_row = ind
            if ind.target.strip() and not _is_rate_target(ind.target):
                out.append(F.RATE_TARGET.at(sheet, ind.cell("target"), ind.id, value=shown(ind.target)))
        for field, label in REQUIRED:
            if field == "target" and ind.is_kpi:
                continue
            value = getattr(ind, field)   # empty, or only spaces (isspace is what strip removes)
            if not value or (value.isspace() if type(value) is str else not str(value).strip()):
                out.append(F.MISSING_FIELD.at(sheet, ind.cell(field), ind.id, label=label, where="", or_else=""))
        if (odd := _odd_id(ind.id)) is not None:
            out.append(F.ODD_ID.at(sheet, ind.cell("id"), ind.id, id=shown(ind.id), what=odd[0], how=odd[1]))
        if ind.id:
            if ind.id in seen:
                first = seen[ind.id]
                out.append(F.DUPLICATE_ID.at(sheet, ind.cell("id"), ind.id, id=shown(ind.id),
                                             first=f"{first.sheet}!{first.cell('id')}"))
            elif type(ind.id) is str and (first := alike.setdefault(id_key(ind.id), ind)) is not ind:
                out.append(F.LOOKALIKE_ID.at(sheet, ind.cell("id"), ind.id, id=shown(ind.id), other=shown(first.id),
                                             first=f"{first.sheet}!{first.cell('id')}",
                                             difference=first_difference(ind.id, first.id)))
                seen[ind.id] = ind
            else:
                seen[ind.id] = ind
        if ind.method and ind.method not in METHODS and unread_value(ind.method) is None:
            out.append(F.UNKNOWN_METHOD.at(sheet, ind.cell("method"), ind.id, value=shown(ind.method),
                                           choices="、".join(METHODS)))
        if ind.rule and ind.rule not in RULES and unread_value(ind.rule) is None:
            out.append(F.UNKNOWN_RULE.at(sheet, ind.cell("rule"), ind.id, value=shown(ind.rule),
                                         choices="、".join(RULES)))
        for text in _INDICATOR_TEXT_VALUES(ind):
            if text not in unread_clean:
                # may_be_unread: error_value's and boolean_value's first tests, without a call
                if type(text) is not str or may_be_unread(text):
                    out += _text_errors(ind, INDICATOR_TEXTS, sheet, ind.id)
                    break
                unread_clean.add(text)
        for field, label in TEXT_FIELDS:
            # _check_text's return for a short printable text that starts visible (so looks_empty
            # finds nothing), told without the two calls: 100,000 texts at 20,000 indicators.
            text = getattr(ind, field)
            if not text or text in fitting:
                continue
            if type(text) is str and len(text) <= _HALF_CELL and text.isprintable() \
                    and not text[0].isspace() and text[0] not in INVISIBLE:
                fitting.add(text)
                continue
            _check_text(ind, field, sheet, ind.id, label, out)
        for field, label in TARGET_FIELDS:
            _parse_at(ind, field, sheet, ind.id, label, out)
        problem = unjudgeable(ind, sheet_units.get(ind.id, ())) or rule_warning(ind)
        if problem is not None:
            out.append(problem)
        out += _manual_findings(ind)
        if rates_others(ind) and (typed := rate_lines(ind.status_manual)):
            out.append(F.TYPED_RATE_LINE.at(sheet, ind.cell("status_manual"), ind.id, value=typed[0].strip()))
        if _manual_feeds(ind):
            out += _other_year(ind, ind.actual_manual, ind.sheet, "actual_manual", fiscal_year)
    return out


def _manual_feeds(ind: Indicator) -> bool:
    method = method_of(ind)
    return method is not None and method.manual != MANUAL_NEVER


def _other_year(ind: Indicator, raw: object, sheet: str, field: str, fiscal_year: int, record=None) -> list[Finding]:
    """An actual labelled with another year (「7,000人（2022年度）」, 「構築（2024年度）」) is not
    this year's result: judged, it would pass last year's figure (or a later completion) off
    as 対象年度's. 基本KPI and 参考 rows, which are not judged, may show the latest figure
    there is (the official list prints 「30,273千人（2022年度）」)."""
    if type(raw) is not str or "年" not in raw or ind.is_kpi or ind.rule == RULE_REFERENCE:
        return []   # nearly every value: no year in it
    try:
        v = parse_input(raw)
    except ValueParseError:
        return []   # its own finding says why
    note = next((n for n in v.notes if n.kind in (NOTE_ASOF, "calendar") and n.year), None)
    if note is None or note.year == fiscal_year:
        return []
    cell = (record or ind).cell(field)
    return [F.ACTUAL_OTHER_YEAR.at(sheet, cell, ind.id, value=shown(raw), year=f"「{note.text}」",
                                   fiscal_year=fiscal_year)]


def _is_rate_target(target: str) -> bool:
    """A 達成割合 row's 目標値 is a share (rules.rate_share: what the row is judged against)."""
    try:
        return rate_share(target) is not None
    except ValueParseError:
        return True     # unreadable: _parse_at names it already


def _manual_findings(ind: Indicator) -> list[Finding]:
    """Findings about 実績値（手入力）, read as an input. Its cell is named only where it is
    needed (as in _parse_at): most rows have nothing to say about it."""
    if ind.actual_manual == "":   # most rows (their method sums the municipalities): read as empty
        return [F.MISSING_ACTUAL.at(ind.sheet, ind.cell("actual_manual"), ind.id)] if _needs_manual(ind) else []
    out: list[Finding] = []
    sheet = ind.sheet
    actual = _parse_at(ind, "actual_manual", sheet, ind.id, _ACTUAL_MANUAL, out, strict=True)
    if actual is None:
        _hint_the_answer(ind, out)
    target = _target(ind)
    if target is not None and actual is not None and _unit_clash(target, actual):
        out.append(F.UNIT_MISMATCH.at(sheet, ind.cell("actual_manual"), ind.id, level=WARNING if ind.is_kpi else None,
                                      label=_ACTUAL_MANUAL, value=actual.core, expected=f"目標値「{target.core}」"))
    elif actual is not None and actual.kind == NUMBER and not rates_others(ind):
        _check_reported(ind, ind.actual_manual, actual, sheet, ind.cell("actual_manual"), out, _ACTUAL_MANUAL)
    if actual is not None and not out and _manual_feeds(ind):
        _unanswered(ind, actual, sheet, ind.cell("actual_manual"), _ACTUAL_MANUAL, out)
    if actual is not None and actual.kind == "empty" and _needs_manual(ind):
        out.append(F.MISSING_ACTUAL.at(sheet, ind.cell("actual_manual"), ind.id))
    elif (actual is not None and actual.kind == EMPTY and dash_mark(ind.actual_manual) and _manual_feeds(ind)
          and not ind.is_kpi and ind.rule != RULE_REFERENCE and not rates_others(ind)):
        # A judged row's 「－」 (a 基本KPI or 参考 row prints it, as the FY2023 list does for KPI1-1)
        out.append(F.DASH_AS_EMPTY.at(sheet, ind.cell("actual_manual"), ind.id, label=_ACTUAL_MANUAL,
                                      value=shown(ind.actual_manual)))
    if rates_others(ind) and ind.actual_manual.strip():
        out.append(F.IGNORED_ACTUAL.at(sheet, ind.cell("actual_manual"), ind.id))
    return out


def _hint_the_answer(ind: Indicator, out: list[Finding]) -> None:
    """An actual no reading takes, on a row a word answers (rules.answer_hint): its finding
    (the last one, just made) hints at the words that answer the row's target."""
    if out and out[-1].type == UNPARSEABLE and (hint := answer_hint(ind)) is not None:
        out[-1] = out[-1]._replace(hint=hint)


def _needs_manual(ind: Indicator) -> bool:
    """実績値（手入力） is the row's only value (手入力), so it may not stay empty (基本KPI may)."""
    method = method_of(ind)
    return method is not None and method.manual == MANUAL_ALWAYS and not ind.is_kpi


_target = target_of


def _unit_clash(target: Value, actual: Value) -> bool:
    """A 実績値（手入力） counting another thing than its target. One without a unit counts in
    the target's (methods.with_unit: 「7000」 is 7,000人, and an Excel number cell has no
    unit), as the hint says (単位は省略できます): no clash."""
    if target.kind != NUMBER or actual.kind != NUMBER or not actual.unit:
        return False
    return target.family != actual.family


def _entry_findings(settings: Settings, known: dict[str, Indicator], entries: Sequence[Entry]
                    ) -> tuple[list[Finding], set[str]]:
    """The findings of the municipality rows, and the 指標IDs whose values have errors.

    Once per row, 200,000 rows on a 20,000 × 12 master, nearly all without a finding: the
    common path reads each field once and names no sheet or cell, and a row's 実績値 and 分母
    are checked once per (_rules_numbers' number, 実績値, 分母) found clean and then only
    looked up: a master repeats 「0」…「12」 in most of its rows (~0.13 s of checks at
    20,000 × 12). One loop on purpose: a helper's call per row is what these shortcuts save."""
    out: list[Finding] = []
    bad: set[str] = set()
    seen: dict[str, dict[str, Entry]] = {}   # municipality → 指標ID → its first row
    rules = _rules_numbers(known)
    clean: set[tuple[int, str, str]] = set()
    central = settings.central.name if settings.central is not None else None
    partly_fed = _partly_fed(known)
    # The 指標IDs of 指標 that error_value's first test passes, asked once per ID rather than
    # once per row (each recurs on every municipality's sheet); and the 単位 found to need no
    # _status_findings (a few distinct on 240,000 rows at 20,000 × 12). perf-112.
    plain_ids = {i for i in rules if type(i) is str and not may_be_unread(i)}
    alike: Optional[dict[str, str]] = None    # id_key → the 指標ID of 指標 it is the key of
    quiet_units: set[str] = set()
    for e in entries:
        ind_id = e.indicator_id
        if not ind_id:
            if e.value or e.status:
                out.append(missing_id_finding(e, ""))
            continue
        if ind_id in plain_ids:
            hit = rules[ind_id]
        else:
            # The row's indicator is unknown: its values feed nothing. (may_be_unread first: error_value's
            # own first test, without a call for each row.)
            if (type(ind_id) is not str or may_be_unread(ind_id)) and error_value(ind_id) is not None:
                out += _text_errors(e, ENTRY_TEXTS + ENTRY_VALUES, e.sheet or e.municipality, "")
                continue
            hit = rules.get(ind_id)
            if hit is None:
                if alike is None:       # built at the first unknown ID: nearly every master has none
                    alike = {id_key(i): i for i in known if type(i) is str}
                out.append(_unknown_id(e, ind_id, alike.get(id_key(ind_id)) if type(ind_id) is str else None))
                continue
        ind, rules_no = hit
        firsts = seen.get(e.municipality) or seen.setdefault(e.municipality, {})   # no pair made for each row
        first = firsts.setdefault(ind_id, e)
        if first is not e:
            out.append(_duplicate(e, first))
        if e.status or e.unit not in quiet_units:
            if _texts_to_check(e):
                found = _status_findings(e, out, _status_levels(ind, e.municipality == central))
            else:
                found = []
                quiet_units.add(e.unit)
        else:
            found = []
        value, den = e.value, e.denominator
        if e.status and not value:
            found += _status_instead_of_value(ind, e, e.municipality == central)
        # Text only as a key: 1, 1.0 and True are equal keys but not the same value.
        checked = (rules_no, value, den) if rules_no is not None and type(value) is type(den) is str else None
        if checked is None or checked not in clean:
            values_found = entry_value_findings(ind, e)
            if values_found:
                found += values_found
            elif checked is not None:
                clean.add(checked)
        if e.previous and value and not found:      # rows of a rolled-over master only
            found += _previous_jump(ind, e)
        if (type(value) is str and "年" in value) or ind_id in partly_fed or (e.status and ind.status_manual):
            found += _what_the_row_feeds(ind, e, e.municipality == central, settings.fiscal_year, found)
        if found:
            if any(f.is_error for f in found):
                bad.add(ind.id)
            out += found
    return out, bad


# How far this year's 実績値 may be from last year's before a digit is suspected.
JUMP = Decimal(10)


def _previous_jump(ind: Indicator, e: Entry) -> list[Finding]:
    """A 実績値 ten times last year's or a tenth of it (PREVIOUS_JUMP), compared in one unit:
    a bare number is in the row's 単位, as rollover showed it (core.rollover._entry_shown).
    Any method whose row holds a number (中心市のみ copies it as typed); a ratio (値／分母), a
    state or a value either year in another unit says nothing of a digit."""
    method = method_of(ind)
    if method is None or method.denominator or "／" in e.previous:
        return []
    try:
        now, before = parse_value(e.value), parse_value(e.previous)
    except ValueParseError:
        return []
    if now.kind != NUMBER or before.kind != NUMBER or not now.number or not before.number:
        return []
    unit = unit_family(e.unit) if e.unit else ""
    if (now.family or unit) != (before.family or unit) or now.number < 0 or before.number < 0:
        return []
    ratio = now.number / before.number
    if JUMP > ratio > 1 / JUMP:
        return []
    times = f"約{ratio:.0f}倍" if ratio >= JUMP else f"約{1 / ratio:.0f}分の1"
    return [F.PREVIOUS_JUMP.at(e.sheet or e.municipality, e.cell("value"), e.indicator_id,
                               value=shown(e.value), previous=shown(e.previous), times=times)]


# A 実施状況 that is a number and nothing else: 「12」「１，２００」「▲3」「4.5」 (and, through the
# value reader, with its unit: _number_only).
_BARE_NUMBER = LazyPattern(r"[+\-▲△]?\d[\d,]*(?:\.\d+)?")


def _number_only(status: object) -> bool:
    """Whether a 実施状況 is a figure and nothing else: a bare number, or one a 実績値 cell would
    read as a number (「2件」 「２件」 「▲3人」 「1.2万人」 「2件（把握可能分）」), or one hedged
    (「約10件」: values.hedged_figure). A unit after the number made it a status: 小樽市's
    「2件」 was left out of 04-1's 21件, which was □ at 19件 with a warning only that the
    status would not show on 一覧."""
    text = unicodedata.normalize("NFKC", shown(status)).strip()
    if _BARE_NUMBER.fullmatch(text):
        return True
    if type(status) is not str or not any(ch.isdigit() for ch in text):
        return False
    try:
        return parse_input(status).kind == NUMBER
    except ValueParseError:
        return hedged_figure(status)


def _status_instead_of_value(ind: Indicator, e: Entry, is_central: bool) -> list[Finding]:
    """A bare number in 実施状況 beside an empty 実績値, on a row whose number is summed: the
    answer typed one column to the right. Taken as a status, the municipality's number was
    left out of the total and the indicator judged on the others' alone; an error, so the
    row is 「－」 in the master and held in a return (cycle.collect), never summed without it.
    Rows whose 実績値 feeds nothing (基本KPI, 参考, a method that takes none) are left alone."""
    method = method_of(ind)
    if method is None or not method.numeric or not method.reported_by(is_central) or ind.is_kpi \
            or ind.rule == RULE_REFERENCE:
        return []
    if not _number_only(e.status):
        return []
    return [F.STATUS_NUMBER_ONLY.at(e.sheet or e.municipality, e.cell("status"), ind.id, value=shown(e.status),
                                    municipality=e.municipality)]


def _unknown_id(e: Entry, ind_id: str, like: Optional[str]) -> Finding:
    return unknown_id_finding(e.sheet or e.municipality, e.cell("indicator_id"), ind_id, ind_id, like)


def unknown_id_finding(sheet: str, cell: str, for_id: str, ind_id: str, like: Optional[str] = None) -> Finding:
    """A municipality row's 指標ID that 指標 lacks (for the indicator ``for_id``, in a
    reason); one Excel saved as a date (「4-1」 typed into a new row) or a dash alone says
    what it is, as on 指標 (a dash said only 「指標シートにありません」). ``like``: the ID of
    指標 it is typed like (id_key: 「04‐1」 with U+2010, 「０４－１」), named with the
    characters that differ: 「指標ID「04‐1」は指標シートにありません」 of a cell that shows
    04-1 sent staff looking on 指標 for a row that is there."""
    if (odd := _odd_id(ind_id)) is not None:
        return F.ODD_ID.at(sheet, cell, for_id, id=shown(ind_id), what=odd[0], how=odd[1])
    said = (f"（指標シートの「{shown(like)}」と同じに見えますが、違う文字が入っています: {first_difference(ind_id, like)}）"
            if like else "")
    return F.UNKNOWN_ID.at(sheet, cell, for_id, id=shown(ind_id), like=said)


def _odd_id(ind_id: object) -> Optional[tuple[str, str]]:
    """What a 指標ID that is no ID is (what, how), on 指標 and on a municipality row alike,
    or None: a date or time Excel made of 「4-1」, a dash alone, a boolean."""
    if not ind_id or type(ind_id) is not str:
        return None
    return _odd_text_id(ind_id)


@lru_cache(maxsize=1 << 16)
def _odd_text_id(ind_id: str) -> Optional[tuple[str, str]]:
    """``_odd_id`` of a text, cached: every 指標ID of 指標 is asked on every recalculation, and
    「04-1」 starts with a digit, so each took both date patterns (~3 % of FY2023's)."""
    if dash_mark(ind_id):
        return F.ODD_ID_DASH
    if date_text(ind_id):
        return F.ODD_ID_DATE
    return F.ODD_ID_BOOL if boolean_value(ind_id) is not None else None


def _partly_fed(known: dict[str, Indicator]) -> set[str]:
    """The indicators some municipality's row does not feed (a set test per row: most rows
    are of indicators every municipality feeds). One whose 集計方法 is no method has its own
    finding on 指標, and what its rows feed is not known."""
    return {ind_id for ind_id, ind in known.items() if method_of(ind) is not None and not reported_by(ind, False)}


def _what_the_row_feeds(ind: Indicator, e: Entry, is_central: bool, fiscal_year: int,
                        found: list[Finding]) -> list[Finding]:
    """Findings on what a row's 実績値 and 実施状況 feed (few rows get here): last year's
    figure, a value the method takes from nobody on this sheet, a status 指標 replaces."""
    out: list[Finding] = []
    feeds = reported_by(ind, is_central)
    if feeds and type(e.value) is str and "年" in e.value:
        out += _other_year(ind, e.value, e.sheet or e.municipality, "value", fiscal_year, e)
    if method_of(ind) is None:
        # 集計方法 no method (its own finding on 指標, the row －): what its rows feed is not
        # known. Taken as feeding nothing, a 実施状況 beside 指標's own raised AttributeError
        # in _unused_entry, and 入力チェック ended as 「予期しないエラー」.
        return out
    if not feeds and (e.value or e.status):
        out += _unused_entry(ind, e, {f.cell for f in found})
    elif e.status and e.status.strip() and replaces_status(ind):
        out += _status_replaced(ind, e, {f.cell for f in found})
    return out


def _status_replaced(ind: Indicator, e: Entry, found_cells: set[str]) -> list[Finding]:
    """A municipality's 実施状況 that 一覧 does not show: 指標's 実施状況（手入力） is shown in
    its place (methods.plain_status). The municipality was told its text goes to 一覧."""
    if e.cell("status") in found_cells:
        return []
    return [F.REPLACED_STATUS.at(e.sheet or e.municipality, e.cell("status"), ind.id, municipality=e.municipality,
                                 value=shown(e.status), manual=f"{ind.sheet or c.INDICATORS}!{ind.cell('status_manual')}")]


def _unused_entry(ind: Indicator, e: Entry, found_cells: set[str]) -> list[Finding]:
    """A row whose 実績値 feeds nothing (手入力 and 自動 take none from the municipalities,
    中心市のみ only the central city's, whose 実施状況 alone 一覧 shows too) is a warning,
    never dropped in silence: the municipality thinks it reported. A cell that already has
    its finding (an error value, 「2人以上」) keeps that one alone."""
    method = method_of(ind)
    fields = (("value", _VALUE),) if method.reporters == NOBODY else (("value", _VALUE), ("status", _STATUS))
    out = []
    for field, label in fields:
        raw = getattr(e, field)
        if raw and shown(raw).strip() and e.cell(field) not in found_cells:
            out.append(F.IGNORED_ENTRY.at(e.sheet or e.municipality, e.cell(field), ind.id, method=ind.method,
                                          municipality=e.municipality, label=label, value=shown(raw),
                                          how=method.summary))
    return out


def _rules_numbers(known: dict[str, Indicator]) -> dict[str, tuple[Indicator, Optional[int]]]:
    """指標ID → (indicator, a number for what ``entry_value_findings`` reads of it: 集計方法,
    目標値, 基準値, 評価方法 and 基本KPI, which say whether a 実績値 answers the target), None
    when the first four are not all text. With a row's 実績値 and 分母 that decides the
    findings; where the row is only goes into their texts. A number, not the texts, so that
    a row's key hashes without reading them (~0.025 s at 20,000 × 12)."""
    numbers: dict[tuple[str, str, str, str, bool], int] = {}
    out: dict[str, tuple[Indicator, Optional[int]]] = {}
    for ind_id, ind in known.items():
        key = (ind.method, ind.target, ind.baseline, ind.rule, ind.is_kpi)
        text = type(key[0]) is type(key[1]) is type(key[2]) is type(key[3]) is str
        out[ind_id] = (ind, numbers.setdefault(key, len(numbers)) if text else None)
    return out


_STATUS_UNSHOWN = {"status": WARNING}


def _status_levels(ind: Indicator, is_central: bool) -> Mapping[str, str]:
    """A municipality's 実施状況 holding TRUE/FALSE is an error where 一覧 would show it (as
    methods.plain_status shows one), a warning where it does not: 指標's 実施状況（手入力）
    replaces it, or 中心市のみ shows the central city's alone."""
    return {} if status_listed(ind, is_central) else _STATUS_UNSHOWN


def _texts_to_check(e: Entry) -> bool:
    """Whether a row's 実施状況 and 単位 need _status_findings: most rows have no status, and a
    unit without "#" (error_value's own first test), without a boolean's first letter and
    with no character that may show as nothing (_unit_findings' own first test)."""
    unit = e.unit
    return bool(e.status) or may_be_unread(unit) or may_be_unseen(unit)


def _status_findings(e: Entry, out: list[Finding], boolean_levels: Mapping[str, str] = {}) -> list[Finding]:
    """A row's 実施状況: whether it fits 一覧's cell, and whether Excel saved it as a date, go
    to ``out`` (they say nothing of the row's values); an error value in it or in its 単位
    (the texts of ENTRY_TEXTS; its 指標ID was found to hold none before this is asked) is
    returned with the row's other findings."""
    sheet = e.sheet or e.municipality
    _check_text(e, "status", sheet, e.indicator_id, _STATUS, out)
    if type(e.status) is str and date_text(e.status):
        out.append(F.STATUS_DATE.at(sheet, e.cell("status"), e.indicator_id, value=shown(e.status)))
    found = _text_errors(e, ENTRY_TEXTS, sheet, e.indicator_id, boolean_levels)
    return found if any(f.cell == e.cell("unit") for f in found) else found + _unit_findings(e, sheet)


def _duplicate(e: Entry, first: Entry) -> Finding:
    return F.DUPLICATE_ID.at(e.sheet or e.municipality, e.cell("indicator_id"), e.indicator_id,
                             id=shown(e.indicator_id),
                             first=f"{first.sheet or first.municipality}!{first.cell('indicator_id')}")


def entry_value_findings(ind: Indicator, e: Entry) -> list[Finding]:
    """Findings about one municipality row's 実績値 and 分母 for a known indicator."""
    out: list[Finding] = []
    sheet = e.sheet or e.municipality
    value = _parse_at(e, "value", sheet, e.indicator_id, _VALUE, out, strict=True)
    if value is None:
        _hint_the_answer(ind, out)
    note = next((n for n in value.notes if n.kind in TARGET_NOTES), None) if value is not None else None
    if note is not None:
        out.append(F.ACTUAL_TARGET_NOTE.at(sheet, e.cell("value"), e.indicator_id, value=shown(e.value), note=note.text))
    if value is not None and value.kind == EMPTY and dash_mark(e.value):
        out.append(F.DASH_AS_EMPTY.at(sheet, e.cell("value"), e.indicator_id, label=_VALUE, value=shown(e.value)))
    method = method_of(ind)
    if method is None:
        return out
    if method.denominator and dash_mark(e.denominator) and (value is None or value.is_empty):
        # 「－」 beside no numerator: nothing reported, said once (an error needs a numerator)
        out.append(F.DASH_AS_EMPTY.at(sheet, e.cell("denominator"), e.indicator_id, label=_DENOMINATOR,
                                      value=shown(e.denominator)))
    elif method.denominator and (e.denominator.strip() or (value is not None and not value.is_empty)):
        den = _parse_at(e, "denominator", sheet, e.indicator_id, _DENOMINATOR, out, strict=True)
        if den is not None and den.kind == UNCOUNTED:
            pass    # not counted yet: the row is 未集計 (methods._uncounted), no 分母 is missing
        elif den is not None and (den.kind != NUMBER or den.number <= 0):
            out.append(F.MISSING_DENOMINATOR.at(sheet, e.cell("denominator"), e.indicator_id))
        elif den is not None and value is not None and value.kind == EMPTY:   # 分母 alone: not a numerator of 0
            out.append(F.MISSING_NUMERATOR.at(sheet, e.cell("value"), e.indicator_id, value=shown(e.denominator)))
        elif den is not None and _denominator_checked(e, den, sheet, out) and value is not None and \
                value.kind == NUMBER and value.family != PERCENT and not _bare_fraction(value) and \
                value.number > den.number:
            out.append(F.RATIO_OVER_WHOLE.at(sheet, e.cell("value"), e.indicator_id, value=shown(e.value),
                                             denominator=shown(e.denominator)))
    elif not method.denominator and e.denominator:
        _unused_denominator(ind, e, sheet, out)
    if value is None or value.is_empty:
        return out
    if method.reporters == NOBODY:
        return out
    before = len(out)
    if method.numeric:
        _check_number(ind, e, value, sheet, out)
    elif method.state and value.kind != STATUS:
        out.append(F.NOT_A_STATE.at(sheet, e.cell("value"), e.indicator_id, value=shown(e.value)))
    elif method.state and len(value.core.split()) > 1:
        # 「維 持」 is another word to the roll-up: it would disagree with 「維持」 as a state of
        # its own. Not joined silently: a space may part two words (「維持 改善」).
        out.append(F.STATE_SPACE.at(sheet, e.cell("value"), e.indicator_id, value=shown(e.value),
                                    joined="".join(value.core.split())))
    elif value.kind == NUMBER:
        _check_reported(ind, e.value, value, sheet, e.cell("value"), out)
    if len(out) == before and not method.numeric:   # a numeric method's own checks say it all
        _unanswered(ind, value, sheet, e.cell("value"), _VALUE, out)
    return out


def _unanswered(ind: Indicator, value: Value, sheet: str, cell: str, label: str, out: list[Finding]) -> None:
    """A value the row's target cannot judge (rules.unanswered: 「常時」 for 「維持」, 「実施」
    for 「20件」), as an error on its cell: the row is then －（入力エラー）, never － unsaid."""
    found = unanswered(ind, value, sheet, cell, label)
    if found is not None:
        out.append(found)


def _denominator_checked(e: Entry, den: Value, sheet: str, out: list[Finding]) -> bool:
    """A 比率's 分母 (a number above 0) checked as a count, as a 実績値 is: not a share
    (「143%」 was read as 143) and whole (0.5 made 90 of them 18000%). True when clean."""
    what = ("割合のようです" if den.family == PERCENT else
            "小数です（人数・件数は整数です）" if den.number != den.number.to_integral_value() else "")
    if what:
        out.append(F.RATIO_DENOMINATOR.at(sheet, e.cell("denominator"), e.indicator_id,
                                          value=shown(e.denominator), what=what))
    return not what


_UNUSED_DENOMINATOR = {"denominator": WARNING}   # a boolean there is published nowhere


def _unused_denominator(ind: Indicator, e: Entry, sheet: str, out: list[Finding]) -> None:
    """A 分母 on a row whose 集計方法 takes none feeds nothing, but is never passed over in
    silence: an error value is the cell error it is anywhere (never an empty cell), anything
    else a warning that it is not used."""
    errors = _text_errors(e, (("denominator", _DENOMINATOR),), sheet, e.indicator_id, _UNUSED_DENOMINATOR)
    if errors:
        out += errors
    elif shown(e.denominator).strip():
        out.append(F.IGNORED_DENOMINATOR.at(sheet, e.cell("denominator"), e.indicator_id, method=ind.method,
                                            value=shown(e.denominator)))


def _check_number(ind: Indicator, e: Entry, value: Value, sheet: str, out: list[Finding]) -> None:
    if value.kind != NUMBER:
        out.append(F.NOT_A_NUMBER.at(sheet, e.cell("value"), e.indicator_id, value=shown(e.value)))
        return
    unit = input_unit(ind)
    expected = unit_family(unit) if unit is not None else None
    if value.unit and expected is not None and value.family != expected:
        target = _target(ind) if not unit else None    # 「単位が「」と違います」 said nothing
        shown_as = f"目標値「{target.core}」（単位なし）" if target is not None else f"「{unit}」"
        out.append(F.UNIT_MISMATCH.at(sheet, e.cell("value"), e.indicator_id, label=_VALUE, value=shown(e.value),
                                      expected=shown_as))
    method = method_of(ind)
    if value.unit and unit is None and method is not None and not method.denominator:
        # No unit from the method: the target is no number, and says its unit itself
        # (「全市町村」 counts 市町村, 「各１回」 回): 「5件」 summed was － with no finding.
        _unanswered(ind, value, sheet, e.cell("value"), _VALUE, out)
    count_like = (value.family if value.unit else expected) in COUNT_FAMILIES
    if method is not None and method.denominator and (value.family == PERCENT or _bare_fraction(value)):
        out.append(F.RATIO_NUMERATOR.at(sheet, e.cell("value"), e.indicator_id, value=shown(e.value)))
    elif expected == PERCENT and _bare_fraction(value):
        out.append(_percent_as_fraction(e.value, value, sheet, e.cell("value"), e.indicator_id))
    elif value.number < 0:
        out.append(_negative(e.value, sheet, e.cell("value"), e.indicator_id))
    elif count_like and value.number != value.number.to_integral_value():
        out.append(_fractional(e.value, sheet, e.cell("value"), e.indicator_id))


def _check_reported(ind: Indicator, raw: str, value: Value, sheet: str, cell: str,
                    out: list[Finding], label: str = _VALUE) -> None:
    """A number reported for a 中心市のみ or 手入力 indicator: a count is a whole number,
    and it is not negative unless the indicator itself goes below zero (人口の社会増減
    ▲2,805人 → ▲1,400人)."""
    target = _target(ind)
    t_family = target.family if target is not None and target.kind == NUMBER else None
    family = value.family if value.unit else t_family
    if value.unit and t_family is not None and value.family != t_family:
        # Evaluated it would be － (単位が目標と実績で違います): said here, on its cell, too.
        expected = f"目標値の単位「{target.unit}」" if target.unit else f"目標値「{target.core}」（単位なし）"
        out.append(F.UNIT_MISMATCH.at(sheet, cell, ind.id, label=label, value=shown(raw), expected=expected))
    elif fraction_of_percent(value, target):
        out.append(_percent_as_fraction(raw, value, sheet, cell, ind.id))
    elif value.number < 0 and not _may_be_negative(ind, target):
        out.append(_negative(raw, sheet, cell, ind.id, label))
    elif family in COUNT_FAMILIES and value.number != value.number.to_integral_value():
        out.append(_fractional(raw, sheet, cell, ind.id, label))


def _may_be_negative(ind: Indicator, target: Optional[Value]) -> bool:
    if target is None or target.kind != NUMBER:
        return True  # nothing says the quantity cannot go below zero
    if target.number < 0:
        return True
    try:
        baseline = parse_value(ind.baseline)
    except ValueParseError:
        return False
    return baseline.kind == NUMBER and baseline.number < 0


def _negative(raw: str, sheet: str, cell: str, ind_id: str, label: str = _VALUE) -> Finding:
    return F.NEGATIVE.at(sheet, cell, ind_id, label=label, value=shown(raw))


PERCENT = "%"   # the unit family of 「75%」 and 「75％」


def _bare_fraction(value: Value) -> bool:
    """A number without a unit strictly between 0 and 1: what Excel stores for 「68%」 typed
    into a cell (0.68, shown as 68% by the cell's format, which neither face reads). In a
    cell that counts in % (or a 比率's numerator, a count) it cannot be told from 0.68%."""
    return not value.unit and 0 < value.number < 1


def fraction_of_percent(value: Value, target: Optional[Value]) -> bool:
    """A figure reported against ``target`` (a 目標値 counted in %, 1% or more) that is a bare
    fraction (_bare_fraction): 0.732 beside 「100％」 is 「73.2%」 as Excel stores it, or 0.732%,
    and which cannot be told. One rule for a 中心市のみ・手入力 figure (_check_reported) and a
    past year's 実績値 imported into 経年 (history._unit_refusal), where 0.732 was recorded
    beside 「73.2%」 and 次の一歩 compared the two as ↑."""
    return (target is not None and target.kind == NUMBER and target.family == PERCENT
            and _bare_fraction(value) and target.number >= 1)


def fraction_as_percent(value: Value) -> str:
    """The percent a bare fraction is as Excel stores it, every digit kept: 0.732 → 「73.2%」
    (format_percent rounds: it prints rates). What a refusal of fraction_of_percent proposes."""
    return typed_percent(value.number)


def _percent_as_fraction(raw: str, value: Value, sheet: str, cell: str, ind_id: str) -> Finding:
    percent = fraction_as_percent(value)
    return F.PERCENT_AS_FRACTION.at(sheet, cell, ind_id, value=shown(raw), percent=percent, number=percent[:-1])


def _fractional(raw: str, sheet: str, cell: str, ind_id: str, label: str = _VALUE) -> Finding:
    return F.FRACTIONAL_COUNT.at(sheet, cell, ind_id, label=label, value=shown(raw))


def input_errors(ind: Indicator, entries: Sequence[Entry], settings: Settings) -> list[Finding]:
    """The error findings (as ``validate`` reports them) that make ``ind``'s row －: on the
    cells it is judged by (a duplicated row, a bad 実績値 or 分母, a bad 実績値（手入力）), and
    an error value anywhere in the row's own cells or its municipality rows (an ID, a
    status: 「#REF!」 is never read, or printed, as empty). A status with other problems does
    not feed a value; those findings are not among these (JUDGED_FIELDS)."""
    rows, manual = feeding_entries(ind, entries, settings)
    out: list[Finding] = indicator_cell_errors(ind)
    if manual:
        out += [f for f in _manual_findings(ind) if f.is_error]
        out += _other_year(ind, ind.actual_manual, ind.sheet, "actual_manual", settings.fiscal_year)
    seen: dict[str, Entry] = {}
    central = settings.central.name if settings.central is not None else None
    for e in rows:
        if e.municipality in seen:
            out.append(_duplicate(e, seen[e.municipality]))
        seen.setdefault(e.municipality, e)
        out += [f for f in _text_errors(e, ENTRY_TEXTS, e.sheet or e.municipality, ind.id,
                                        _status_levels(ind, e.municipality == central)) if f.is_error]
        out += [f for f in entry_value_findings(ind, e) if f.is_error]
        if e.status and not e.value:   # the figure typed into 実施状況: summed without it, the row was judged
            out += _status_instead_of_value(ind, e, e.municipality == central)
        out += _other_year(ind, e.value, e.sheet or e.municipality, "value", settings.fiscal_year, e)
    return out


def unread_cell_counts(ind: Indicator, entries: Sequence[Entry], settings: Settings, sheet: str, cell: str) -> bool:
    """Whether a cell of ``ind``'s rows that the reader could not read (a formula saved
    without its result, which it hands over as empty) makes the row －: exactly where an
    error value in that cell would (input_errors), asked by putting one there. Why: the
    kind of unreadable cell must not decide a symbol. A 実績値（手入力） set aside for the
    central city's value, or a 実施状況 一覧 does not show, kept ◎ with 「#N/A」 in it and was
    － with a formula whose result was not saved, taking the row out of the 達成割合 for a
    value nothing reads. So was a municipality sheet's 連携事業名 or 評価指標, a label the
    contract does not read (the row has no such field). A cell not among the row's, or read
    into a number or a mark (事業No, 基本KPI: contract_read names those itself), makes the
    row － as before."""
    for record in (ind, *entries):
        if (record.sheet or getattr(record, "municipality", "")) != sheet:
            continue
        field = next((f for f, ref in record.cells.items() if ref == cell), None)
        if field is None or record is not ind and record.indicator_id != ind.id:
            continue
        if field not in record._fields:
            return False
        if type(getattr(record, field)) is not str:
            return True
        held = record._replace(**{field: NO_RESULT_VALUE})
        found = (input_errors(held, entries, settings) if record is ind
                 else input_errors(ind, [held if e is record else e for e in entries], settings))
        return any(f.sheet == sheet and f.cell == cell for f in found)
    return True


def indicator_cell_errors(ind: Indicator) -> list[Finding]:
    """Error values in 指標's own cells of ``ind`` (texts, 基準値, 目標値): whatever the
    method, a row whose own cells hold an error cannot be published (JUDGED_FIELDS says
    why). 実績値（手入力） is left to _manual_findings, which knows whether it feeds the row."""
    out = _text_errors(ind, INDICATOR_TEXTS, ind.sheet, ind.id)
    for field, label in TARGET_FIELDS:
        error = error_value(getattr(ind, field))
        if error is not None:
            out.append(F.unread_found(ind.sheet, ind.cell(field), ind.id, label, error))
    return out


# What a row whose inputs have errors says first, in 一覧's 連携事業実施状況等: with the bad
# cells after it in the master (input_error_reason), alone in the 確定版 (consolidate.published_status).
INPUT_ERROR_SAID = "入力エラーのため評価不可"


def input_error_reason(errors: Sequence[Finding]) -> str:
    """The evaluation reason of an indicator whose inputs have errors: the first bad cell
    with its message, then how many more and where."""
    first = errors[0]
    reason = f"{INPUT_ERROR_SAID}（{first.place}: {first.message}）"
    others = list(dict.fromkeys(f.place for f in errors[1:] if f.place != first.place))
    if others:
        reason += f"。ほかに {listed(others, 'か所')} も誤りがあります"
    return reason


def _breakdown_findings(known: dict[str, Indicator], entries: Iterable[Entry], bad_ids: set[str]
                        ) -> list[Finding]:
    """A typed 実績値（手入力） next to municipality values must equal their sum. Not
    compared while a municipality value has an error: that sum means nothing yet. With no
    municipality value at all it feeds nothing (the row is 未集計): a warning, never dropped
    in silence."""
    out: list[Finding] = []
    sums: dict[str, Decimal] = {}
    # Only a typed 実績値（手入力） can disagree: the values of the others are not summed.
    typed_ids = {i for i, ind in known.items() if i not in bad_ids and ind.actual_manual.strip()
                 and (m := method_of(ind)) is not None and m.manual_is_total}
    if not typed_ids:
        return out
    for e in entries:
        if e.indicator_id not in typed_ids:
            continue
        ind = known[e.indicator_id]
        try:
            v = parse_input(e.value)
        except ValueParseError:
            continue
        if v.kind == NUMBER:
            sums[ind.id] = sums.get(ind.id, Decimal(0)) + v.number
    for ind_id in sorted(typed_ids - set(sums)):    # nothing to check it against: it feeds nothing
        ind = known[ind_id]
        out.append(F.UNUSED_TOTAL.at(ind.sheet, ind.cell("actual_manual"), ind_id, value=shown(ind.actual_manual),
                                     method=shown(ind.method)))
    for ind_id, total in sums.items():
        ind = known[ind_id]
        try:
            typed = parse_input(ind.actual_manual)
        except ValueParseError:
            continue
        if typed.kind == NUMBER and typed.number != total:
            out.append(F.BREAKDOWN_MISMATCH.at(ind.sheet, ind.cell("actual_manual"), ind_id,
                                               value=shown(ind.actual_manual), total=total))
    return out
