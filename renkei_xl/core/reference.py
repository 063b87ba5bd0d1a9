"""The FY2023 reference list (renkei_xl/data/fy2023.toml) as plain records.

The TOML file is the reviewable transcription of the official list; this module turns it
into what a master workbook would hold: settings, 指標 rows and municipality entries.
The official symbols and texts are returned separately: the tests and the demo's
comparison check the evaluation against them, and a sample master's 経年 starts with them
(official_history); the evaluation itself never reads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import tomllib

from .methods import BY_NAME, CENTRAL_ONLY, MANUAL_ALWAYS, METHOD_CENTRAL, METHOD_MANUAL, NO_VALUE, without_rate_lines
from .model import KPI_LABEL, Entry, Indicator, Municipality, Settings

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SAMPLES = {"fy2023": DATA_DIR / "fy2023.toml"}


@dataclass(frozen=True)
class Reference:
    title: str
    roles: tuple[str, ...]
    settings: Settings
    indicators: tuple[Indicator, ...]
    entries: tuple[Entry, ...]
    official: Mapping[str, str]        # 指標ID -> official symbol (the demo, the sample's 経年, tests)
    official_actual: Mapping[str, str]  # 指標ID -> official 実績値 as printed (the sample's 経年)
    official_status: Mapping[str, str]  # 指標ID -> official 実施状況 text (tests: the oracle for 実施状況)


def official_history(ref: "Reference") -> dict:
    """The official list as the sample's 経年: its year's 実績値 as printed and its symbol
    per 指標ID (core.history.History), so the sample starts with the year it reproduces."""
    from .history import YearRecord

    year = ref.settings.fiscal_year
    return {ind_id: {year: YearRecord(ref.official_actual.get(ind_id, ""), symbol)}
            for ind_id, symbol in ref.official.items()}


def load_reference(name_or_path: str | Path = "fy2023") -> Reference:
    path = SAMPLES.get(str(name_or_path), Path(name_or_path))
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return _build(data)


def _settings(data: dict) -> Settings:
    base = data.get("base_date")
    if isinstance(base, str):
        base = dt.date.fromisoformat(base)
    municipalities = tuple(
        Municipality(m["name"], m.get("kind", "連携市町村"), m.get("department", ""), m.get("email", ""))
        for m in data["municipality"])
    return Settings(data["region"], int(data["fiscal_year"]), base,
                    float(data.get("threshold", 0.85)), municipalities)


def _build(data: dict) -> Reference:
    settings = _settings(data)
    roles = tuple(data["roles"])
    central = settings.central.name if settings.central else ""
    indicators: list[Indicator] = []
    entries: list[Entry] = []
    official: dict[str, str] = {}
    actuals: dict[str, str] = {}
    statuses: dict[str, str] = {}

    def add(ind: Indicator, row: dict, values: Optional[Mapping[str, str]] = None) -> None:
        indicators.append(ind)
        official[ind.id] = row["official"]
        actuals[ind.id] = row["actual"]
        statuses[ind.id] = row.get("status", "").strip()
        for muni, value in (values or {}).items():
            den = row.get("denominators", {}).get(muni, "")
            entries.append(Entry(muni, ind.id, value=str(value), denominator=str(den)))

    # Rows in the order of the official document: per role, its 基本KPI rows first, then
    # its projects. 一覧 regroups by role anyway; this keeps 指標 readable.
    for role_no, role in enumerate(roles, start=1):
        for k in (k for k in data.get("kpi", []) if k["role"] == role_no):
            add(Indicator(k["id"], role, None, KPI_LABEL, "", k["name"], k["baseline"],
                          k["target"], METHOD_MANUAL, "", _actual(k["actual"]),
                          k.get("status", "").strip(), True), k)
        for p in (p for p in data["project"] if p["role"] == role_no):
            for row in p["indicator"]:
                method = row.get("method", METHOD_CENTRAL)
                how = BY_NAME[method]
                status = row.get("status", "").strip()
                actual_manual = ""
                values = row.get("values")
                if how.reporters == CENTRAL_ONLY and values is None:
                    values = {central: _actual(row["actual"])} if _actual(row["actual"]) else {}
                if how.rates_others:
                    # The first line of 1's status is what the tool generates itself.
                    status = without_rate_lines(status)
                if how.manual == MANUAL_ALWAYS:
                    actual_manual = _actual(row["actual"])
                add(Indicator(row["id"], role, int(p["no"]), p["name"], p.get("summary", ""),
                              row["name"], row["baseline"], row["target"], method,
                              row.get("rule", ""), actual_manual, status, False), row, values)
    return Reference(data.get("title", ""), roles, settings, tuple(indicators), tuple(entries),
                     official, actuals, statuses)


def _actual(text: str) -> str:
    """「－」 in the 実績値 column means nothing was reported: the cell stays empty."""
    return "" if text.strip() in (NO_VALUE, "") else text
