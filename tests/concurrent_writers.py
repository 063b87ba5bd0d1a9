"""What each process of test_hostile_writes' writers-at-once test runs.

Apart from the test module so that a spawned process imports only the tool's collect and
recalc: importing test_hostile_writes (pytest, openpyxl, the tool's command line) took each
of its six processes 0.2 CPU-s before it could start.
"""

from __future__ import annotations

from pathlib import Path


def run_import(master: str, folder: str, start, out) -> None:
    from renkei_xl.cycle.collect import collect

    start.wait(timeout=120)
    try:
        report = collect(Path(master), [Path(folder)])
        out.put(("collect", folder, len(report.records), report.written is not None))
    except Exception as exc:  # reported to the test, which fails on it
        out.put(("collect", folder, repr(exc), False))


def run_recalc(master: str, start, out) -> None:
    from renkei_xl.workbook.session import recalc_file

    start.wait(timeout=120)
    try:
        result, written = recalc_file(Path(master))
        out.put(("recalc", "", result.summary.fraction_text, written is not None))
    except Exception as exc:
        out.put(("recalc", "", repr(exc), False))
