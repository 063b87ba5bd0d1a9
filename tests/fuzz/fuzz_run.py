"""The fuzzers' one entry point (``make fuzz``): each fuzzer in turn for its time budget,
every finding kept in ``.fuzz/`` with the one-line command that replays it.

    python tests/fuzz/fuzz_run.py [--seconds 60] [--seed N] [--only parts,csv] [--case parts:7:12]

Exit code 0 when nothing was found, 1 when something was."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]   # the fuzzers, then tests/ (remote_payload)
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import fuzzlib  # noqa: E402

FUZZERS = ("parts", "returned", "schema", "values", "payload", "vba", "csv", "http", "mail")


def load(name: str):
    return importlib.import_module(f"{name}_fuzzer")


def fuzz(names, seed: int, seconds: float | None = None, cases: int | None = None,
         out: Path = fuzzlib.REPO / ".fuzz", masters: dict | None = None, only_index: int | None = None,
         say=print) -> dict[str, list[str]]:
    """Run each named fuzzer until its budget (``seconds``, or ``cases`` cases) is spent;
    the ids of the cases that found a defect, by fuzzer. ``masters`` lets the test suite
    hand in what it built already."""
    findings: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="renkei-fuzz-") as tmp:
        masters = masters or fuzzlib.build_masters(Path(tmp) / "masters")
        for name in names:
            findings[name] = _one_fuzzer(load(name), seed, seconds, cases, out, masters, Path(tmp), only_index, say)
    return findings


def _one_fuzzer(module, seed, seconds, cases, out, masters, tmp: Path, only_index, say) -> list[str]:
    """One fuzzer's cases, each in a fresh folder, until its budget is spent."""
    context = module.prepare(masters, tmp) if hasattr(module, "prepare") else masters
    found, index, start = [], 0, time.monotonic()
    try:
        indexes = [only_index] if only_index is not None else None
        while _more(index, start, seconds, cases, indexes):
            number = indexes[index] if indexes else index
            case = fuzzlib.Case(module.NAME, seed, number, Path(tempfile.mkdtemp(dir=tmp)))
            if _judge(module, context, case, out, say):
                found.append(case.id)
            index += 1
    finally:
        if hasattr(module, "finish"):
            module.finish(context)
    say(f"{module.NAME}: {index} cases, {len(found)} findings ({time.monotonic() - start:.0f} s)")
    return found


def _more(index: int, start: float, seconds, cases, indexes) -> bool:
    if indexes is not None:
        return index < len(indexes)
    if cases is not None and index >= cases:
        return False
    return seconds is None or time.monotonic() - start < seconds


def _judge(module, context, case, out: Path, say) -> bool:
    """Run the case; on a defect, keep it and print how to replay it."""
    try:
        outcomes = module.run_case(context, case)
    except Exception:   # the fuzzer's own bug: reported and replayable, and the run goes on
        outcomes = [fuzzlib.Outcome(f"{module.NAME}.run_case", output=traceback.format_exc(),
                                    note="the fuzzer itself raised (a bug in tests/fuzz)")]
    found = [(o, why) for o in outcomes for why in [fuzzlib.problem(o)] if why]
    if found:
        where = fuzzlib.save_finding(out, case, found)
        o, why = found[0]
        say(f"FINDING {case.id}: {why} in `{o.label[:120]}` -> {where}")
        say(f"  replay: {fuzzlib.replay_command(case)}")
    return bool(found)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="time budget of each fuzzer")
    parser.add_argument("--seed", type=int, default=None, help="default: a new one, printed")
    parser.add_argument("--only", default="", help="comma-separated fuzzer names")
    parser.add_argument("--case", default="", help="replay one case: fuzzer:seed:index")
    args = parser.parse_args(argv)
    if args.case:
        name, seed, index = args.case.split(":")
        found = fuzz([name], int(seed), only_index=int(index))
    else:
        seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
        names = [n for n in args.only.split(",") if n] or list(FUZZERS)
        print(f"seed {seed}, {args.seconds:.0f} s per fuzzer: {', '.join(names)}")
        found = fuzz(names, seed, seconds=args.seconds)
    total = sum(len(v) for v in found.values())
    print(f"{total} findings" + (f" (kept in {fuzzlib.REPO / '.fuzz'})" if total else ""))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
