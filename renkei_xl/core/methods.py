"""集計方法: every way municipality sheets roll up into one 実績値, each defined once.

A method is a record: who reports a row for it, what its cells hold (numbers, a 分母, a
state word), the unit staff count in, the prompt on the input cell, and how its rows add
up. Everything else asks this module: the builder and split (which rows, which unit,
which input rule), collect (which cells become numbers), validation (which checks apply
and which cells feed a value) and consolidation (the roll-up itself). Adding a method is
one more ``Method`` in ``METHODS`` and its tests; nothing elsewhere lists methods.

Its names come from ``choices`` (which ``model`` reads its default from too); ``model`` is
imported for type names only.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and the first compile() of a process builds the ast module's
# types, about 3 ms of every command (docs/performance.md). Annotations naming model's
# types (imported for type checkers only) are whole strings.

import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, NamedTuple, Optional, Sequence

from . import contract as c
from .choices import (METHOD_AUTO, METHOD_CENTRAL, METHOD_MANUAL, METHOD_PARTICIPANTS, METHOD_RATIO,  # noqa: F401
                      METHOD_STATE, METHOD_SUM, RULE_PROGRESS, UNCOUNTED_STATE, canonical_state)
from .values import (NUMBER, STATUS, UNCOUNTED, Value, ValueParseError, bare_number, dash_mark,
                     exact, format_number, format_percent, listed, listed_in, normalized, parse_input, parse_value, quotient,
                     rounded_rate, shown, shown_share, unit_family, unread_value)

if TYPE_CHECKING:  # type names only
    from .model import Entry, Indicator, Settings

# Who carries a row for the indicator on their municipality sheet.
EVERY_MUNICIPALITY = "every"
CENTRAL_ONLY = "central"
NOBODY = "nobody"

# Where 実績値（手入力） comes in: always, only when the central city left its cell empty, never.
MANUAL_ALWAYS = "always"
MANUAL_FALLBACK = "fallback"
MANUAL_NEVER = "never"

PARTICIPANT_UNIT = "市町村"
NO_VALUE = "－"


class ConsolidationError(ValueError):
    """The entries cannot be combined (mixed units, disagreeing states); Japanese reason.
    ``entries``: the municipality rows at fault, when they can be told (the states or
    units that differ from the others'), so the finding points at their cells rather
    than at 指標; ``finding`` is the type of that finding (core.findings)."""

    def __init__(self, message: str, entries: "Sequence[Entry]" = (), finding=None, field: str = "value"):
        super().__init__(message)
        self.entries = tuple(entries)
        self.finding = finding
        self.field = field      # the entries' cell at fault: 実績値, or a 比率's 分母


class Rolled(NamedTuple):
    """What a method makes of its rows: 実績値 as printed, the breakdown, and whether the
    breakdown is appended to the 実施状況 text 一覧 shows."""
    actual: str
    breakdown: str = ""
    breakdown_in_status: bool = False
    share: Optional[Fraction] = None   # 比率: the exact Σ実績値／Σ分母 ``actual`` prints (roll_up prints it again)


class Method(NamedTuple):
    name: str
    summary: str                  # one line for staff (設定's choice list, README)
    reporters: str                # EVERY_MUNICIPALITY / CENTRAL_ONLY / NOBODY
    manual: str                   # MANUAL_ALWAYS / MANUAL_FALLBACK / MANUAL_NEVER
    numeric: bool = False         # 実績値 cells hold numbers (validated ≥ 0, made numbers on import)
    denominator: bool = False     # rows carry a 分母
    state: bool = False           # 実績値 is a state word from 状態一覧
    unit: Callable[[Optional[Value]], Optional[str]] = lambda target: None
    prompt: str = ""              # input message on the 実績値 cell; {unit} is filled in
    roll: Optional[Callable[..., Rolled]] = None  # (rows: Sequence[Entry], unit: str) → Rolled
    rates_others: bool = False    # a 達成割合 row: its symbol comes from the other rows' symbols
    manual_is_total: bool = False  # a 実績値（手入力） typed beside the rows must equal their total
    # The unit family its 実績値 comes out in whatever the target says (比率: a share in %;
    # 参加市町村数: a count of municipalities); None: the target's own (rules._unit_problem).
    yields: Optional[str] = None

    def reported_by(self, is_central: bool) -> bool:
        """Whether a municipality's sheet (the central city's: ``is_central``) carries a row."""
        return self.reporters == EVERY_MUNICIPALITY or (self.reporters == CENTRAL_ONLY and is_central)

    @property
    def adds_up(self) -> bool:
        """Every municipality's own number counts towards the total (合計, 参加市町村数), so
        one still empty is something the total is waiting for."""
        return self.reporters == EVERY_MUNICIPALITY and self.numeric and not self.denominator


# ----------------------------------------------------------------------------- units

def _target_unit(target: Optional[Value]) -> Optional[str]:
    """Staff count in the target's unit; a target that is no number says nothing."""
    return target.unit if target is not None and target.kind == NUMBER else None


def _participant_unit(target: Optional[Value]) -> Optional[str]:
    return PARTICIPANT_UNIT


# ----------------------------------------------------------------------------- roll-ups

def _reported(entries: "Sequence[Entry]", kind: str, what: str, field: str = "value"
              ) -> "list[tuple[Entry, Value]]":
    """(entry, parsed value) for each entry that reports something of the given kind.
    A list built in one loop (every caller reads them all): a generator and a second list
    cost ~0.5 µs a row, 0.07 s on a 20,000 × 12 master."""
    out = []
    for e in entries:
        raw = getattr(e, field)
        try:
            v = parse_input(raw)
        except ValueParseError as exc:
            raise ConsolidationError(f"{e.municipality}: {exc}") from exc
        if v.kind == kind:   # ``kind`` is never an empty one: the common case, first
            out.append((e, v))
        elif not v.is_empty:
            raise ConsolidationError(f"{e.municipality}の「{shown(raw)}」は{what}ではありません")
    return out


def _numbers(entries: "Sequence[Entry]", field: str = "value") -> "list[tuple[Entry, Decimal, str]]":
    return [(e, v.number, v.unit) for e, v in _reported(entries, NUMBER, "数値", field)]


def sum_with_breakdown(entries: "Sequence[Entry]", default_unit: str = "") -> Rolled:
    """合計: 「21件」 and 「（札幌市17件、小樽市2件、千歳市1件、恵庭市1件）」."""
    rows = _reported(entries, NUMBER, "数値")
    if not rows:
        return Rolled(NO_VALUE, "", True)
    units = {v.unit for _, v in rows if v.unit}
    unit = units.pop() if len(units) == 1 else default_unit
    if len(units) > 1:
        unit = _common_unit(rows, default_unit)
    total = sum([v.number for _, v in rows], Decimal(0))   # a list: a generator's frame is slower
    # A Decimal is true when it is not 0 (-0 included): the test without a comparison.
    # Each municipality's part in the unit it reported (17人, 2名: one family, one sum).
    parts = [f"{e.municipality}{format_number(n, v.unit or unit)}" for e, v in rows if (n := v.number)]
    breakdown = f"（{'、'.join(parts)}）" if parts else ""
    return Rolled(format_number(total, unit), breakdown, True)


def _common_unit(rows: "list[tuple[Entry, Value]]", default_unit: str, field: str = "value") -> str:
    """The unit of a sum whose rows name more than one: 人 and 名 count the same thing
    (values.unit_family), so they add up, shown in the indicator's own unit when it is
    of that family, else in the unit most rows use. Units of different families (人 and
    件) do not add up: ConsolidationError naming the rows whose family most rows do not
    share (every row with a unit, when no family has most), as a state that differs is."""
    from .findings import UNITS_DIFFER

    by_family: "dict[str, list[tuple[Entry, Value]]]" = {}
    for e, v in rows:
        if v.unit:
            by_family.setdefault(v.family, []).append((e, v))
    if len(by_family) > 1:
        sizes = sorted(map(len, by_family.values()), reverse=True)
        most = max(by_family.values(), key=len) if sizes[0] > sizes[1] else []
        by_unit: dict[str, list[str]] = {}
        for e, v in rows:
            if v.unit:
                by_unit.setdefault(v.unit, []).append(e.municipality)
        detail = listed(f"{u}: {listed(ms, '市町村', sep='・')}" for u, ms in by_unit.items())
        raise ConsolidationError(f"市町村によって単位が違います（{detail}）",
                                 [e for group in by_family.values() if group is not most for e, _ in group],
                                 UNITS_DIFFER, field)
    (family, group), = by_family.items()
    if default_unit and unit_family(default_unit) == family:
        return default_unit
    counts: dict[str, int] = {}
    for _, v in group:
        counts[v.unit] = counts.get(v.unit, 0) + 1
    return max(counts, key=counts.__getitem__)      # a tie: the unit reported first


def participants(entries: "Sequence[Entry]", unit: str = PARTICIPANT_UNIT) -> Rolled:
    """参加市町村数: municipalities reporting a value above zero."""
    reported = _numbers(entries)
    if not reported:            # nobody has answered yet: 未集計, not a count of none
        return Rolled(NO_VALUE, "", True)
    names = [e.municipality for e, n, _ in reported if n > 0]
    if not names:
        return Rolled(f"0{PARTICIPANT_UNIT}", "", True)
    return Rolled(f"{len(names)}{PARTICIPANT_UNIT}", f"（{'、'.join(names)}）", True)


def ratio(entries: "Sequence[Entry]", unit: str = "") -> Rolled:
    """比率: Σ実績値 ／ Σ分母 as a percentage with one decimal.

    Units are held to the rule of a sum (_common_unit): numerators of different families (件
    and 人) do not add up, nor do denominators, and a numerator counting other things than
    its denominator makes no share of it. They were added and divided without a word."""
    nums = _numbers(entries)
    den_rows = _reported(entries, NUMBER, "数値", "denominator")
    dens = {e.municipality: v.number for e, v in den_rows}
    if not nums:
        return Rolled(NO_VALUE)
    _ratio_units(_reported(entries, NUMBER, "数値"), den_rows)
    missing = [e.municipality for e, _, _ in nums if e.municipality not in dens]
    if missing:
        raise ConsolidationError(f"分母がありません（{listed(missing, '市町村')}）")
    counted = {e.municipality for e, _, _ in nums}
    alone = [m for m in dens if m not in counted]   # its 分母 would count a numerator of 0 unasked
    if alone:
        raise ConsolidationError(f"分母はありますが実績値（分子）がありません（{listed(alone, '市町村')}）")
    numerator = sum((n for _, n, _ in nums), Decimal(0))
    denominator = sum(dens.values(), Decimal(0))
    if denominator <= 0:
        raise ConsolidationError("分母の合計が 0 です")
    share = quotient(numerator, denominator)
    return Rolled(format_percent(rounded_rate(share)), share=share)


def _ratio_units(num_rows: "list[tuple[Entry, Value]]", den_rows: "list[tuple[Entry, Value]]") -> None:
    """ConsolidationError (UNITS_DIFFER) where a 比率's units do not divide: within its
    numerators or its denominators as for a sum, then the numerators' family against the
    denominators' (named on the denominators' cells). Rows without a unit agree with any."""
    from .findings import UNITS_DIFFER

    families = []
    for rows, field in ((num_rows, "value"), (den_rows, "denominator")):
        found = {v.family for _, v in rows if v.unit}
        if len(found) > 1:
            _common_unit(rows, "", field)        # raises, naming the rows most do not share
        families.append(found)
    num, den = families      # by here at most one family each
    if num and den and num != den:
        units = "・".join(dict.fromkeys(v.unit for _, v in num_rows if v.unit))
        raise ConsolidationError(f"分母の単位が実績値（分子）の単位「{units}」と違います（比率は同じものを数える単位で割ります）",
                                 [e for e, v in den_rows if v.unit], UNITS_DIFFER, "denominator")


def agreed_state(entries: "Sequence[Entry]", unit: str = "") -> Rolled:
    """状態: every reporting municipality must report the same state."""
    states: dict[str, list["Entry"]] = {}
    spelt: dict[str, set[str]] = {}
    for e, v in _reported(entries, STATUS, "状態（維持・常時など）"):
        # By the word, not its spelling: 「実施済み」「実施済」 and 「実施」 agree (choices.canonical_state).
        word = canonical_state(v.status) if not v.each else v.core
        states.setdefault(word, []).append(e)
        spelt.setdefault(word, set()).add(v.core)
    if not states:
        return Rolled(NO_VALUE)
    if len(states) > 1:
        detail = listed(f"{s}: {listed((e.municipality for e in es), '市町村', sep='・')}" for s, es in states.items())
        # The rows that differ from the state most report; with no such state, every row.
        sizes = sorted((len(es) for es in states.values()), reverse=True)
        most = max(states.values(), key=len) if sizes[0] > sizes[1] else []
        raise ConsolidationError(f"市町村の状態が一致しません（{detail}）",
                                 [e for es in states.values() if es is not most for e in es])
    (state, rows), = states.items()
    shown = spelt[state].pop() if len(spelt[state]) == 1 else state   # as typed when all typed it alike
    return Rolled(shown, f"（{'、'.join(e.municipality for e in rows)}）")


# ----------------------------------------------------------------------------- the methods

METHODS: tuple[Method, ...] = (
    Method(METHOD_SUM, "各市町村の実績値を合計し、内訳を実施状況に添えます", EVERY_MUNICIPALITY, MANUAL_NEVER,
           numeric=True, unit=_target_unit, prompt="数値だけを入力してください{unit_note}",
           roll=sum_with_breakdown, manual_is_total=True),
    Method(METHOD_PARTICIPANTS, "実績値が 1 以上の市町村の数を数えます", EVERY_MUNICIPALITY, MANUAL_NEVER,
           numeric=True, unit=_participant_unit, yields=unit_family(PARTICIPANT_UNIT),
           prompt="参加した場合は 1 以上、参加しなかった場合は 0 を入力してください", roll=participants),
    Method(METHOD_CENTRAL, "中心市のシートの値を使います（空なら実績値（手入力））", CENTRAL_ONLY, MANUAL_FALLBACK,
           unit=_target_unit),
    Method(METHOD_MANUAL, "指標シートの実績値（手入力）を使います", NOBODY, MANUAL_ALWAYS, unit=_target_unit),
    Method(METHOD_RATIO, "Σ実績値 ／ Σ分母 を百分率にします", EVERY_MUNICIPALITY, MANUAL_NEVER,
           numeric=True, denominator=True, yields="%",
           prompt="分子の数（例: 就職者数）を入力し、分母も入力してください。率は自動で計算します", roll=ratio),
    Method(METHOD_STATE, "全市町村が同じ状態（維持・常時など）のときその状態になります", EVERY_MUNICIPALITY, MANUAL_NEVER,
           state=True, prompt="状態を一覧から選んでください（一覧にない言葉も確認のうえ入力できます）",
           roll=agreed_state),
    Method(METHOD_AUTO, "達成割合の行: ほかの行の評価から計算します", NOBODY, MANUAL_NEVER, rates_others=True),
)
BY_NAME = {m.name: m for m in METHODS}
NAMES = tuple(m.name for m in METHODS)


def method_of(ind: "Indicator") -> Optional[Method]:
    return BY_NAME.get(ind.method)


def rates_others(ind: "Indicator") -> bool:
    """A 達成割合 row (自動): evaluated from the other rows' symbols, never from a value,
    and not itself one of the rows it counts."""
    m = BY_NAME.get(ind.method)
    return m is not None and m.rates_others


# ----------------------------------------------------------------------------- per indicator

def target_of(ind: "Indicator") -> Optional[Value]:
    try:
        return parse_value(ind.target)
    except ValueParseError:
        return None


def reported_ids(settings: "Settings", indicators: "Sequence[Indicator]", municipality: str) -> "list[str]":
    """The 指標IDs whose rows ``municipality``'s sheet carries (Method.reported_by)."""
    is_central = settings.central is not None and municipality == settings.central.name
    return [ind.id for ind in indicators if (m := method_of(ind)) is not None and m.reported_by(is_central)]


def input_unit(ind: "Indicator", field: str = "value") -> Optional[str]:
    """The unit a municipality counts ``field`` in, or None when any unit will do (a 分母,
    a 比率's numerator, an indicator whose target is no number). One answer for the
    builder's 単位 column, collect's numbers, validation's unit check and the sum's unit."""
    if field != "value":
        return None
    if type(ind.method) is type(ind.target) is str:   # the cache's keys: text only
        return _value_unit(ind.method, ind.target)
    return _value_unit.__wrapped__(ind.method, ind.target)


@lru_cache(maxsize=1 << 12)
def _value_unit(method_name: object, target: object) -> Optional[str]:
    """``input_unit`` of a 実績値 by (集計方法, 目標値): validation asks it for every
    municipality row, 12 times per indicator on a 12-municipality master (~0.1 s of a
    20,000-indicator recalculation when each parsed the target again)."""
    method = BY_NAME.get(method_name)
    if method is None:
        return None
    try:
        target_value = parse_value(target)
    except ValueParseError:
        target_value = None
    return method.unit(target_value)


def shown_unit(ind: "Indicator") -> str:
    """単位 beside 実績値 on a municipality sheet."""
    return input_unit(ind) or ""


def is_numeric_cell(ind: "Optional[Indicator]", field: str) -> bool:
    """Cells that hold numbers: a numeric method's 実績値, and a 分母."""
    if ind is None:
        return False
    method = method_of(ind)
    if method is None:
        return False
    return (field == "value" and method.numeric) or (field == "denominator" and method.denominator)


def reported_by(ind: "Indicator", is_central: bool) -> bool:
    """Whether a municipality sheet carries a row for ``ind``."""
    method = method_of(ind)
    return method is not None and method.reported_by(is_central)


def value_prompt(ind: "Indicator") -> str:
    method = method_of(ind)
    if method is None or not method.prompt:
        return "数値だけを入力してください"
    unit = shown_unit(ind)
    return method.prompt.format(unit_note=f"（単位「{unit}」は不要です）" if unit else "")


INPUT_ERROR_TITLE = "入力できない値です"   # the title of every input rule's refusal
# ... and of a list's warning, which lets the word in on 「はい」: 「入力できない値です」 over
# 「このまま入力してよければ「はい」を押してください」 said both.
INPUT_WARNING_TITLE = "一覧にない値です"


def error_title(warning_only: bool) -> str:
    return INPUT_WARNING_TITLE if warning_only else INPUT_ERROR_TITLE


class InputRule(NamedTuple):
    """A data validation on an input cell, as plain data: the builder renders it with
    XlsxWriter, split's input sheet (core.input_sheet) with the package writer, so a
    master's cell and a municipality's file ask the same thing."""
    kind: str                     # "decimal" or "list"
    title: str
    prompt: str
    error: str
    criteria: str = ""            # ">=" / ">" for decimals
    minimum: float = 0
    list_name: str = ""           # the defined name holding the list's choices
    warning_only: bool = False    # a list that still lets staff type another word
    also: tuple[str, ...] = ()    # words a number cell takes besides numbers (UNCOUNTED_WORDS)

    def formula(self, cell: str) -> str:
        """The custom rule of a number cell that also takes ``also`` (``cell``: the first cell
        of the area, as Excel relates the formula to each cell of it). Excel's decimal rule
        refuses every text, while staff are told to enter 「（未集計）」 for a figure not
        counted yet (the hint of a dash, 状態一覧): typed, it was refused by the very cell."""
        number = f"AND(ISNUMBER({cell}),{cell}{self.criteria}{self.minimum:g})"
        words = ",".join(f'{cell}="{w}"' for w in self.also)
        return f"OR({number},{words})" if words else number


NOT_NEGATIVE = "0以上の数値を入力してください（単位は不要です）"
# What a number cell takes besides a number: a figure not counted yet, as values reads it
# (UNCOUNTED). The roll-up makes the row ― and names whose figure it waits for.
UNCOUNTED_WORDS = ("（未集計）", "(未集計)", "未集計")
NOT_COUNTED_YET = "まだ集計できていないときは「（未集計）」と入力できます"


def input_rule(ind: "Optional[Indicator]", field: str) -> Optional[InputRule]:
    """The rule on ``field``'s cell of ``ind``'s row, or None for a free cell."""
    method = method_of(ind) if ind is not None else None
    if method is None:
        return None
    if field == "value" and method.numeric:
        return InputRule("decimal", c.ENTRY_HEADERS["value"], value_prompt(ind), f"{NOT_NEGATIVE}。{NOT_COUNTED_YET}", ">=", 0,
                         also=UNCOUNTED_WORDS)
    if field == "value" and method.state:
        return InputRule("list", "実績値（状態）", method.prompt,
                         "一覧にない言葉です。このまま入力してよければ「はい」を押してください",
                         list_name=c.N_STATES, warning_only=True)
    if field == "denominator" and method.denominator:
        return InputRule("decimal", c.ENTRY_HEADERS["denominator"], "比率の分母（対象者数など）を 0 より大きい数値で入力してください",
                         f"分母は 0 より大きい数値で入力してください（単位は不要です）。{NOT_COUNTED_YET}", ">", 0,
                         also=UNCOUNTED_WORDS)
    return None


def cell_value(ind: "Optional[Indicator]", field: str, text: object) -> object:
    """What a master's input cell holds for ``text``: on a number cell 「17件」 and 「１７」
    become 17 (so the cell keeps satisfying its numeric rule), while anything a bare number
    would change (another unit, 以上, a note) stays as typed for validation to report.
    The builder, split and collect all store values through here."""
    if text is None:
        return None
    if isinstance(text, str):
        text = text.strip()
        if not text:
            return None
    if isinstance(text, float) and text.is_integer():
        return int(text)
    if not isinstance(text, str) or not is_numeric_cell(ind, field):
        return text
    unit = input_unit(ind, field)
    if unit is None and method_of(ind).denominator:
        # A 比率 takes any unit, but its units must divide (_ratio_units: 「41人」 of 「72件」 is
        # named and the row －): stored bare, a returned 「41人」 and 「72件」 were imported as
        # 41 and 72 and 一覧 showed a rate without a word, where the same typed on the master
        # was named (qa-135). Only a number without a unit is stored as the number.
        unit = ""
        if _has_unit(text):
            return text
    number = bare_number(text, unit)
    return text if number is None else number


def _has_unit(text: str) -> bool:
    """Whether ``text`` reads (parse_input) as a number typed with a unit, any unit: 「5セット」
    too, whose family is none, which _ratio_units still counts as a unit."""
    try:
        return bool(parse_input(text).unit)
    except ValueParseError:
        return False


def feeding_entries(ind: "Indicator", entries: "Sequence[Entry]", settings: "Settings"
                    ) -> "tuple[list[Entry], bool]":
    """(municipality rows whose 実績値 feeds ``ind``, whether 実績値（手入力） feeds it)."""
    method = method_of(ind)
    if method is None:
        return [], False
    return _feeding(method, ind, [e for e in entries if e.indicator_id == ind.id], settings)


def _feeding(method: Method, ind: "Indicator", mine: "Sequence[Entry]", settings: "Settings"
             ) -> "tuple[list[Entry], bool]":
    """``feeding_entries`` of rows already known to be ``ind``'s own."""
    if method.manual == MANUAL_ALWAYS:
        return [], True
    if method.reporters == CENTRAL_ONLY:
        central = settings.central
        own = [e for e in mine if central is not None and e.municipality == central.name]
        # A dash alone is no value (values.dash_mark; validation says it is read as a blank cell):
        # it gave 「－」 ― where the blank it stands for falls back to 実績値（手入力）.
        if own and own[0].value and own[0].value.strip() and not dash_mark(own[0].value):
            return own, False
        return [], method.manual == MANUAL_FALLBACK
    if method.reporters == EVERY_MUNICIPALITY:
        return list(mine), False
    return [], False


def joined_status(entries: "Sequence[Entry]") -> str:
    """The rows' 実施状況, one a line. A check box's TRUE/FALSE, an error value or a picture
    (values.unread_value) is none: validation names its cell, the row's note says why it is
    －, and 「TRUE」, 「#N/A」 or the reader's placeholder of a picture is printed nowhere."""
    return "\n".join(s for e in entries if e.status and (s := e.status.strip()) and unread_value(s) is None)


# The first line of the 達成割合 row's 実施状況, which the tool counts itself (pipeline).
AUTO_STATUS_PREFIX = "・達成済み・達成見込み"
# Spaces after the bullet are asked only after one: an optional bullet between two runs of
# spaces split a line of spaces between the runs every way there is, 1.3 s for one line of
# 32,767 characters (test_pattern_costs).
_RATE_LINE = re.compile(r"\s*(?:[・･]\s*)?達成済み・達成見込み")


def rate_lines(text: str) -> "list[str]":
    """The lines of ``text`` that state a 達成割合 count (「・達成済み・達成見込み50／評価可能70」),
    as last year's published 実施状況 pasted into 実施状況（手入力） carries. The tool writes the
    count it made above the text; printed too, they were a second, stale count in the list."""
    return [line for line in text.splitlines() if _RATE_LINE.match(line)] if type(text) is str else []


def without_rate_lines(text: str) -> str:
    """``text`` without its ``rate_lines``."""
    return "\n".join(line for line in text.splitlines() if not _RATE_LINE.match(line))


def with_breakdown(base: str, extra: str) -> str:
    """Append the breakdown unless the text already says it (as 6's status does)."""
    if extra and listed_in(extra, normalized(base)):
        return base.strip()
    return "\n".join(p for p in (base.strip(), extra) if p)


def status_sources(ind: "Indicator", entries: "Sequence[Entry]", settings: "Settings") -> "list[Entry]":
    """The rows whose 実施状況 一覧 shows: the central city's alone for 中心市のみ."""
    method = method_of(ind)
    if method is not None and method.reporters == CENTRAL_ONLY:
        central = settings.central
        return [e for e in entries if central is not None and e.municipality == central.name]
    return list(entries)


def plain_status(ind: "Indicator", entries: "Sequence[Entry]", settings: "Settings") -> str:
    """実施状況 as 一覧 shows it, before any breakdown is appended."""
    if replaces_status(ind):    # an unread one too (validation names it): printed nowhere
        manual = ind.status_manual.strip()
        return "" if unread_value(manual) is not None else manual
    return joined_status(status_sources(ind, entries, settings))


def replaces_status(ind: "Indicator") -> bool:
    """指標's 実施状況（手入力） is printed in 一覧 in place of every municipality's own."""
    return bool(ind.status_manual.strip())


def status_listed(ind: "Indicator", is_central: bool) -> bool:
    """Whether a municipality's 実施状況 on ``ind``'s row reaches 一覧 (plain_status): not where
    指標's own replaces it, nor a partner's on a 中心市のみ row (status_sources). One rule for
    what recalc warns of and what the input file tells the municipality: the file said every
    実施状況 goes to 一覧, and recalc then warned that it did not. An unknown 集計方法 claims nothing."""
    if replaces_status(ind):
        return False
    method = method_of(ind)
    return method is None or method.reporters != CENTRAL_ONLY or is_central


# Written with these, a number stays as written: the office writes large numbers so
# (「43.9万人」, 「27兆９千億円」 in the official list), and 「439,000人」 would not be its number.
_MULTIPLIERS = frozenset("十百千万億兆")


def with_unit(typed: str, unit: Optional[str], *, reported: bool = False) -> str:
    """A bare number typed for a 中心市のみ or 手入力 row (「7000」: README asks for the number
    alone) in the unit its target counts in (「7,000人」), as a 合計 row's sum is; anything
    else stays as typed (the official list keeps staff's own 「27兆９千億円」).

    ``reported``: the central city's value of a 中心市のみ row, a municipality's number as a
    合計 row's parts are: with its own unit too, it is shown in the sum's form (「3676名」
    and 「３６７６名」 as 「3,676名」; they once stayed as typed beside a sum's 「3,676名」),
    unless written with a multiplier (「43.9万人」) or notes (「116,346人（把握可能分）」)."""
    if not typed or not (unit or reported):
        return typed
    try:
        v = parse_input(typed)
    except ValueParseError:
        return typed        # validation names the cell; the rule meets the same text
    if v.kind != NUMBER or v.notes or v.per_year or v.at_least or v.each:
        return typed
    if v.unit:
        if not reported or _MULTIPLIERS.intersection(typed):
            return typed
        return format_number(v.number, v.unit)
    return format_number(v.number, unit or "")


def roll_up(ind: "Indicator", entries: "Sequence[Entry]", settings: "Settings") -> tuple[str, str, str]:
    """(実績値, breakdown, 実施状況 text) for ``ind`` from its rows (in 設定 order).
    Raises ConsolidationError when the values cannot be combined."""
    method = method_of(ind)
    if method is None:
        raise ConsolidationError(f"集計方法「{ind.method}」は使えません")
    rows, _ = _feeding(method, ind, entries, settings)   # ``entries`` are ind's own: not filtered again
    status = plain_status(ind, entries, settings)
    if method.roll is None:
        value = rows[0].value.strip() if rows else ""
        shown = (with_unit(value, input_unit(ind), reported=True) if value
                 else with_unit(ind.actual_manual.strip(), input_unit(ind)))
        return shown or NO_VALUE, "", status
    waiting = _uncounted(rows, ("value", "denominator") if method.denominator else ("value",))
    if waiting:
        note = f"（{'、'.join(waiting)}は未集計）"
        return UNCOUNTED_STATE, note, with_breakdown(status, note)
    rolled = method.roll(rows, input_unit(ind) or "")
    text = with_breakdown(status, rolled.breakdown) if rolled.breakdown_in_status else status
    actual = rolled.actual if rolled.share is None else shown_share(rolled.share, share_edges(ind, settings.threshold))
    return actual, rolled.breakdown, text


def _uncounted(rows: "Sequence[Entry]", fields: tuple[str, ...]) -> list[str]:
    """The municipalities whose 実績値 (or a 比率's 分母) says it is not counted yet
    (「（未集計）」, what staff are told to enter then): a roll-up of the others would be a
    total without them, published and judged as the whole, so the row is 未集計 (―) until
    they report."""
    out = []
    for e in rows:
        for field in fields:
            raw = getattr(e, field)
            if "未集計" in raw and _is_uncounted(raw):    # nearly never: parsed only then
                out.append(e.municipality)
                break
    return out


def _is_uncounted(raw: str) -> bool:
    try:
        return parse_input(raw).kind == UNCOUNTED
    except ValueParseError:
        return False    # its finding makes the row an input error


def share_edges(ind: "Indicator", threshold: float) -> tuple[Fraction, ...]:
    """The shares at which a 比率 row's symbol changes (its target in %, and the threshold's
    part of the way there: from 0, or from the 基準値 under 進捗率), () when the target gives
    none (its finding says why). A share is printed to 0.1 % and judged as printed
    (rules.evaluate reads 一覧's 実績値), so it is printed on the side of each edge the exact
    share is on (values.shown_within): 5,949／10,000 is 「59.4%」 against 「70%」 (84.99 %, ×),
    not 「59.5%」 (85.0 %, □)."""
    target = target_of(ind)
    if target is None or target.kind != NUMBER or target.family != "%":
        return ()
    base = Fraction(0)
    if ind.rule == RULE_PROGRESS:
        try:
            baseline = parse_value(ind.baseline)
        except ValueParseError:
            return ()
        if baseline.kind != NUMBER or baseline.family != "%":
            return ()
        base = Fraction(baseline.number) / 100
    goal = Fraction(target.number) / 100
    return goal, base + (goal - base) * exact(threshold)   # exact, as the bands compare
