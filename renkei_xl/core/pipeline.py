"""One recalculation: validate → consolidate → evaluate → summarise.

Both faces (the command line on a file, the buttons in a live workbook) call
``recalculate`` with the same plain records and get the same Result, so a symbol can
never depend on which face computed it.

An indicator whose feeding inputs have errors (see consolidate) shows 「（入力エラー）」 as
its 実績値 and is evaluated － (評価不可) with the first bad cell and its message in the
reason, until the input is fixed: an input error is not "not yet due" (―) and never a
symbol computed from the other municipalities. The 達成割合 row counts ◎ / (◎+□+×), so
such a row drops out of it like any －.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Sequence

from . import contract as c
from .consolidate import ConsolidationError, by_indicator, fit_texts, rollup_rows
from .deadlines import past_targets
from .choices import RULE_REFERENCE
from .symbols import EVALUABLE_SAID
from .model import (ACHIEVED, EVALUABLE, MISSED, NOT_EVALUABLE, SYMBOLS, Consolidated, Entry, Evaluation, Finding, Indicator,
                    Result, Settings, Summary, left_out_text)
from .rules import Context, achievement_rate, context_of, evaluate, rate_target, shown_ratio
from .methods import AUTO_STATUS_PREFIX, NO_VALUE, rates_others, reported_ids, without_rate_lines
from .findings import CONSOLIDATION, NO_RESULT, RATE_UNDECIDED, STATE_DISAGREES, unread_found, unread_sheets
from .validate import (JUDGED_FIELDS, id_key, input_error_reason, may_feed, missing_id_finding,
                       unknown_id_finding, unread_cell_counts, validate)
from .values import error_value, exact, format_percent, shown


def _in_rate(ind: Indicator) -> bool:
    """Whether the 達成割合 would count the row were it evaluated (基本KPI, 参考 and the
    達成割合 rows themselves never are): one an input error makes － is said as left out."""
    return not rates_others(ind) and not ind.is_kpi and ind.rule != RULE_REFERENCE


def recalculate(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry],
                extra_findings: Sequence[Finding] = ()) -> Result:
    # A cell the reader could not read (a formula without result) is said once, by the
    # reader: validation would only see it as empty.
    unread = {f.place for f in extra_findings if f.is_error and f.cell}
    findings = (list(extra_findings) + [f for f in validate(settings, indicators, entries) if f.place not in unread]
                + past_targets(settings, indicators))
    suspect = {f.indicator_id for f in findings if f.is_error}
    validated = {f.place for f in findings if f.is_error}
    read_errors = _read_errors(settings, indicators, entries, extra_findings)
    for ind_id, found in _definition_errors(indicators, findings).items():
        read_errors.setdefault(ind_id, []).extend(found)
    by_id = by_indicator(entries, settings)
    ctx = context_of(settings)
    consolidated: dict[str, Consolidated] = {}
    evaluations: dict[str, Evaluation] = {}
    left_out = 0    # rows an input error makes －: the 達成割合 says how many it leaves out
    to_evaluate: list[tuple[Indicator, str]] = []
    for ind in indicators:
        try:
            rolled = rollup_rows(ind, by_id.get(ind.id, ()), settings, may_have_errors=ind.id in suspect,
                            known_errors=read_errors.get(ind.id, ()))
        except ConsolidationError as exc:
            found, consolidated[ind.id], evaluations[ind.id] = _not_consolidated(ind, exc)
            findings += [f for f in found if f.place not in validated]
            left_out += _in_rate(ind)    # an input error on 指標 makes it －, as one on a municipality sheet
            continue
        consolidated[ind.id] = rolled.consolidated
        findings += rolled.findings
        if rolled.input_errors:
            evaluations[ind.id] = Evaluation(ind.id, NOT_EVALUABLE, input_error_reason(rolled.input_errors))
            left_out += _in_rate(ind)
            continue
        if not rates_others(ind):
            to_evaluate.append((ind, rolled.consolidated.actual))
    # Evaluated after every roll-up, not in turn with them: each pass keeps its own data
    # at hand (~0.09 s of 0.55 at 20,000 × 12). setdefault after the roll-ups' assignments
    # keeps what the one loop kept: an input error's －, else a repeated 指標ID's first.
    for ind, actual in to_evaluate:
        evaluations.setdefault(ind.id, evaluate(ind, actual, ctx))

    # The 達成割合 row counts itself when judged: when an error on its own row makes it －, it
    # is one row the rate leaves out, said as any other (a second one never counts itself).
    rate_row = next((i for i in indicators if rates_others(i)), None)
    if rate_row is not None and rate_row.id in read_errors and not rate_row.is_kpi and rate_row.rule != RULE_REFERENCE:
        left_out += 1
    # Once per 指標ID: a repeated ID is one indicator (its rows are － by their finding).
    plain = [evaluations[i].symbol for i in dict.fromkeys(i.id for i in indicators if not rates_others(i))]
    achieved, evaluable = _rate_rows(indicators, plain, left_out, ctx, consolidated, evaluations, findings,
                                     read_errors)
    ordered = {i.id: evaluations[i.id] for i in indicators}
    summary = summarize(indicators, ordered, achieved, evaluable)._replace(left_out=left_out)
    if summary.rate is not None:    # printed as the 達成割合 row prints it (rules.shown_ratio)
        rate_row = next((i for i in indicators if rates_others(i)), None)
        target = rate_target(rate_row) if rate_row is not None else 1.0
        summary = summary._replace(rate=shown_ratio(Fraction(achieved, evaluable), ctx.threshold, target))
    return Result(tuple(indicators), consolidated, ordered, tuple(findings), summary)


def _not_consolidated(ind: Indicator, exc: ConsolidationError
                      ) -> tuple[list[Finding], Consolidated, Evaluation]:
    """The findings, 一覧 texts and － of a row whose entries cannot be combined. Rows the
    roll-up could tell at fault are named on their own cells; else the 集計方法 cell (said
    once: the caller drops one a validation already named, such as a blank method)."""
    kind = exc.finding or STATE_DISAGREES
    found = [kind.at(e.sheet or e.municipality, e.cell(exc.field), ind.id,
                     municipality=e.municipality, value=shown(getattr(e, exc.field)), reason=exc)
             for e in exc.entries] or [CONSOLIDATION.at(ind.sheet, ind.cell("method"), ind.id, reason=exc)]
    consolidated = fit_texts(ind, Consolidated(ind.id, NO_VALUE, "", ind.status_manual), [ind.status_manual])[0]
    evaluation = Evaluation(ind.id, NOT_EVALUABLE, f"集計できません: {exc}"
                            + (f"（{found[0].place}）" if exc.entries else ""))
    return found, consolidated, evaluation


def _rate_rows(indicators: Sequence[Indicator], plain: list[str], left_out: int, ctx: Context,
               consolidated: dict[str, Consolidated], evaluations: dict[str, Evaluation],
               findings: list[Finding], broken: dict[str, list[Finding]]) -> tuple[int, int]:
    """The 達成割合 rows (自動), from the other rows' symbols ``plain``: each one's 一覧 texts
    and evaluation are set in ``consolidated`` and ``evaluations``, and a cut text's finding
    is added to ``findings`` once. Returns (達成, 評価可能) as the summary counts them: the
    達成割合 row's, which counts itself, or the other rows' when it is not evaluated (an
    error on its own row, 基本KPI or 参考: － as any row, and not counted by itself)."""
    achieved = sum(s == ACHIEVED for s in plain)
    evaluable = sum(s in EVALUABLE for s in plain)
    for ind in (i for i in indicators if rates_others(i)):
        if ind.id in broken:    # its roll-up made it － with the finding as the reason
            continue
        if ind.is_kpi or ind.rule == RULE_REFERENCE:
            evaluations[ind.id] = evaluate(ind, NO_VALUE, ctx)
            continue
        target = rate_target(ind)
        symbol, achieved, evaluable, rate = achievement_rate(plain, target, ctx)
        # No rate with no other row judged (rules.achievement_rate): 「－」 as an empty 実績値 is.
        shown = NO_VALUE if rate is None else format_percent(shown_ratio(rate, ctx.threshold, target))
        note = left_out_text(left_out)
        undecided = _undecided_rate(ind, plain, left_out, ctx, f"{achieved}／{evaluable}")
        line = f"{AUTO_STATUS_PREFIX}{achieved}／評価可能{evaluable}{note}"
        rest = without_rate_lines(consolidated[ind.id].status_text)   # validate warns on its cell
        meta, cut = fit_texts(ind, Consolidated(ind.id, shown, "",
                                                "\n".join(p for p in (line, rest) if p)),
                              [ind.status_manual])
        consolidated[ind.id] = meta
        reported = {(f.type, f.place) for f in findings}
        findings += [f for f in cut if (f.type, f.place) not in reported]
        reason = (f"達成済み・達成見込み{achieved}／評価可能{evaluable} = {shown}"
                  f"（目標 {format_percent(target, None)}、この行自身を含む）{note}")
        if rate is None:
            reason = f"ほかに評価できる指標（{EVALUABLE_SAID}）がないため、達成割合を計算しません{note}"
        if undecided is not None:
            findings.append(undecided)
            evaluations[ind.id] = Evaluation(ind.id, NOT_EVALUABLE, f"{undecided.message}。{reason}")
            continue
        if rate is None:
            evaluations[ind.id] = Evaluation(ind.id, symbol, reason)
            continue
        evaluations[ind.id] = Evaluation(ind.id, symbol, reason,
                                         shown_ratio(Fraction(achieved, evaluable) / exact(target), ctx.threshold))
    return achieved, evaluable


def _undecided_rate(ind: Indicator, plain: list[str], left_out: int, ctx: Context, fraction: str
                    ) -> Finding | None:
    """The finding when the rows left out could change the 達成割合 row's symbol, else None.

    The rate over what remains is shown with how many rows it leaves out; its symbol stands
    only if it is the same whichever way those rows would have come out (all ×, all ◎: the
    judge is monotone, so every case between agrees). Otherwise one stray error (a row of
    指標 deleted, a sheet unread) could publish 「1／1 = 100.0%」 ◎ for a whole vision."""
    if not left_out:
        return None
    target = rate_target(ind)
    low = achievement_rate(plain + [MISSED] * left_out, target, ctx)
    high = achievement_rate(plain + [ACHIEVED] * left_out, target, ctx)
    if low[0] == high[0]:
        return None
    return RATE_UNDECIDED.at(ind.sheet, ind.cell("target"), ind.id, fraction=fraction, left_out=left_out,
                             low=f"{low[0]}（{format_percent(shown_ratio(low[3], ctx.threshold, target))}）",
                             high=f"{high[0]}（{format_percent(shown_ratio(high[3], ctx.threshold, target))}）")


# The cells of 指標 that say how a row is judged (validate.JUDGED_FIELDS): an error in one of
# them (a repeated ID, a 目標値 or 基準値 that cannot be read or is missing, a 集計方法 or
# 評価方法 that is none, a broken 基本KPI) leaves nothing to judge by, so the row is － with
# the finding as its reason rather than judged by a rule guessed without it. 役割 or 評価指標
# left empty is reported, and the row is judged: the symbol does not depend on it (an error
# value there makes the row － all the same: validate.input_errors).
_DEFINING = JUDGED_FIELDS
# Errors elsewhere on the row that say its 実績値 is not known: 実績値（手入力） against the sum.
# A second 達成割合 row: each would count itself, and 集計 could agree with neither.
_DEFINING_TYPES = {"breakdown-mismatch", "second-rate-row"}


def _definition_errors(indicators: Sequence[Indicator], findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    if not any(f.is_error and f.sheet == c.INDICATORS for f in findings):
        return {}   # nearly always: no cell of 指標 is named
    defining = {(ind.sheet, ind.cell(field)) for ind in indicators for field in _DEFINING}
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if f.is_error and f.indicator_id and ((f.sheet, f.cell) in defining or f.type in _DEFINING_TYPES):
            out.setdefault(f.indicator_id, []).append(f)
    return out


def _read_errors(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry],
                 extra_findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    """指標ID → the errors found before the roll-up that make its row －: cells the reader
    could not read (a formula without a saved result, an error value: never printed as an
    empty cell beside a symbol, validate.JUDGED_FIELDS), and entries no indicator or
    municipality claims."""
    read_errors: dict[str, list[Finding]] = {}
    known: dict[str, Indicator] = {}
    for f in extra_findings:
        if f.is_error and f.indicator_id:
            if f.type == NO_RESULT.code:    # rare: a file saved by a tool other than Excel
                known = known or {ind.id: ind for ind in indicators}
                ind = known.get(f.indicator_id)
                if ind is not None and not unread_cell_counts(ind, entries, settings, f.sheet, f.cell):
                    continue    # named by the reader; the row does not use the cell (an error value there keeps it too)
            read_errors.setdefault(f.indicator_id, []).append(f)
    for ind_id, found in unattributed(settings, indicators, entries).items():
        read_errors.setdefault(ind_id, []).extend(found)
    for ind_id, found in unread_municipalities(settings, indicators, extra_findings).items():
        read_errors.setdefault(ind_id, []).extend(found)
    return read_errors


def unattributed(settings: Settings, indicators: Sequence[Indicator], entries: Sequence[Entry]
                 ) -> dict[str, list[Finding]]:
    """A municipality row no indicator claims belongs to an indicator nobody can name: its
    指標ID an error value (「#N/A」 from a broken lookup), not one of 指標's (「０４－１」,
    「04‐1」 with another hyphen, a typo) while the row holds a value, or empty beside a
    value. Which indicators it may belong to: the one its ID names but for width and
    hyphens (「０４－１」 is 04-1, whether or not 04-1 has a row of its own), else each that
    municipality reports but has no row for. None of them is evaluated from a total without
    it; the reason names the row's 指標ID cell. With nothing alike and nothing missing
    (an indicator deleted from 指標, an ID retyped to another's) the row belongs to no
    indicator: every indicator the municipality reports already has its own row from it,
    so no total lacks this one. It keeps its error finding (validate's), and no other row
    is made － for it: one stray row must not take a municipality's whole report out of
    the 達成割合."""
    known = {ind.id for ind in indicators}
    # One set test for nearly every row; the rest are few.
    bad = [(e, why) for e in entries if e.indicator_id not in known if (why := _unclaimed(e)) is not None]
    if not bad:
        return {}
    ids_of: dict[str, set[str]] = {}   # each municipality's 指標IDs, read once, not once per bad row
    for x in entries:
        ids_of.setdefault(x.municipality, set()).add(x.indicator_id)
    alike = {id_key(ind_id): ind_id for ind_id in known}
    reports: dict[str, list[str]] = {}   # each municipality's indicators, once
    out: dict[str, list[Finding]] = {}
    for e, why in bad:
        if e.municipality not in reports:
            reports[e.municipality] = reported_ids(settings, indicators, e.municipality)
        mine = reports[e.municipality]
        named = alike.get(id_key(e.indicator_id))
        candidates = ([named] if named in mine else []) or \
            [i for i in mine if i not in ids_of[e.municipality]]
        for ind_id in candidates:
            out.setdefault(ind_id, []).append(why(ind_id))
    return out


def _unclaimed(e: Entry):
    """How a row no indicator claims is named in a reason (a finding for an 指標ID), or
    None for a row that could feed nothing anyway (an unknown 指標ID on an empty row)."""
    if not may_feed(e):
        return None
    sheet, cell, ind_id = e.sheet or e.municipality, e.cell("indicator_id"), e.indicator_id
    error = error_value(ind_id)
    if error is not None:
        return lambda for_id: unread_found(sheet, cell, for_id, "この市町村の行の指標ID", error)
    if ind_id:
        return lambda for_id: unknown_id_finding(sheet, cell, for_id, ind_id)
    return lambda for_id: missing_id_finding(e, for_id)


def unread_municipalities(settings: Settings, indicators: Sequence[Indicator], extra_findings: Sequence[Finding]
                          ) -> dict[str, list[Finding]]:
    """A municipality whose sheet is missing or whose header cannot be read has rows nobody
    can read: every indicator it reports would be a total without it, so each is － with
    the reader's finding as its reason, never a partial sum passed off as the whole."""
    unread = unread_sheets(settings.municipalities, extra_findings)
    if not unread:
        return {}
    out: dict[str, list[Finding]] = {}
    for muni in settings.municipalities:
        f = unread.get(muni.name)
        if f is not None:
            for ind_id in reported_ids(settings, indicators, muni.name):
                out.setdefault(ind_id, []).append(f._replace(indicator_id=ind_id))
    return out


def summarize(indicators: Sequence[Indicator], evaluations: dict[str, Evaluation],
              achieved: int, evaluable: int) -> Summary:
    # One count of (役割, symbol) pairs, made in C, instead of a Counter per row (~0.02 s at
    # 20,000 rows); its order is the order the roles first appear in, as 一覧 lists them.
    pairs = Counter([(ind.role, evaluations[ind.id].symbol) for ind in indicators])
    full = dict.fromkeys(SYMBOLS, 0)
    roles: dict[str, dict[str, int]] = {}
    for (role, symbol), n in pairs.items():
        per_role = roles.get(role)
        if per_role is None:
            per_role = roles[role] = dict.fromkeys(SYMBOLS, 0)
        if symbol in full:
            full[symbol] += n
            per_role[symbol] += n
    rate = achieved / evaluable if evaluable else None
    return Summary(full, roles, achieved, evaluable, rate)


def missed_note(result: Result) -> str:
    """Why a year with no input yet has × ("" otherwise): targets whose year has passed
    unfinished, and the 達成割合 row counting them. A new year's master read
    「達成割合 0／6 = 0.0%」 after 評価を再計算 with no word why; only the demo said it. Said
    only when that is what every × is; each face prints it under the 達成割合."""
    missed = [i for i in result.indicators if result.evaluations[i.id].symbol == MISSED]
    late = [i for i in missed if not rates_others(i)]
    if not late or any("期限" not in result.evaluations[i.id].reason for i in late):
        return ""
    passed = f"期限（「{shown(late[0].target)}」など）を過ぎて未完了の指標"
    rest = len(missed) - len(late)
    said = (f"× {len(missed)} 件のうち {len(late)} 件は{passed}、{rest} 件はそれを数える達成割合の行です" if rest
            else f"× の {len(late)} 件は{passed}です")
    return f"{said}。目標値を見直すまで × のままです（検証結果の「目標の見直しが必要です」）"
