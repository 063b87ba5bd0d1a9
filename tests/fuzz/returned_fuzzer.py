"""The parts fuzzer's damage applied to a returned input file (a municipality's file from
``split``), then ``collect`` of it into an intact master. A defect is what the oracle calls
one; a refused collect must leave the master as it was."""

from __future__ import annotations

from fuzzlib import Case, copy_to, run_cli
from parts_fuzzer import damaged_copy

NAME = "returned"


def run_case(masters: dict, case: Case) -> list:
    master = copy_to(masters["xlsx"], case.folder)
    (case.folder / "in").mkdir()
    returned = damaged_copy(masters["returned"], case, "in/" + masters["returned"].name)
    args = ["collect", master, returned] + (["--dry-run"] if case.rng.random() < 0.2 else [])
    return [run_cli(args, case.folder, guard=master)]
