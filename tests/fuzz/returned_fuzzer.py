"""The parts fuzzer's damage applied to a returned input file (a municipality's file from
``split``), then ``collect`` of it into an intact master. A defect is what the oracle calls
one; a refused collect must leave the master as it was. A rewrite Excel reads as the same
values (parts_fuzzer.rewrite: rich or phonetic runs, inline strings, ISO dates) must be
taken as the intact file is: the same cells changed, none."""

from __future__ import annotations

from fuzzlib import Case, copy_to, problem, read_parts, run_cli, write_parts
from parts_fuzzer import damaged_copy, rewrite

NAME = "returned"


def prepare(masters: dict, tmp):
    """What collect --dry-run says of the intact returned file."""
    folder = tmp / "returned-baseline"
    (folder / "in").mkdir(parents=True)
    master = copy_to(masters["xlsx"], folder)
    returned = copy_to(masters["returned"], folder / "in")
    return {**masters, "baseline": run_cli(["collect", master, returned, "--dry-run"], folder).output}


def run_case(masters: dict, case: Case) -> list:
    master = copy_to(masters["xlsx"], case.folder)
    (case.folder / "in").mkdir()
    equivalent = False
    if case.rng.random() < .4:   # a real producer's way of writing the same or a hostile cell
        parts = read_parts(masters["returned"])
        equivalent = all([rewrite(parts, case.rng) for _ in range(case.rng.randrange(1, 4))])
        returned = write_parts(case.folder / "in" / masters["returned"].name, parts)
        case.inputs.append(returned)
    else:
        returned = damaged_copy(masters["returned"], case, "in/" + masters["returned"].name)
    if equivalent and "baseline" in masters:
        o = run_cli(["collect", master, returned, "--dry-run"], case.folder, guard=master)
        if not problem(o) and o.output != masters["baseline"]:
            o.note = f"a rewrite Excel reads as the same values was collected otherwise than the intact file: {masters['baseline']!r}"
        return [o]
    args = ["collect", master, returned] + (["--dry-run"] if case.rng.random() < 0.2 else [])
    return [run_cli(args, case.folder, guard=master)]
