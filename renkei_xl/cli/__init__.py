"""The command line `renkei-xl`: the same operations as the buttons, on workbook files.

Each subcommand imports what it needs when it runs, so `renkei-xl --help` and the light
commands start without loading the workbook readers and writers. Errors the staff can
cause arrive as UserError and are printed as one Japanese message with exit code 2, never
a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import functools
import gc
import os
import re
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from .. import __version__
from ..core.errors import UserError, out_of_memory, released
from .help_texts import MASTER_HELP, SAMPLE_NAMES
from .parser import JapaneseParser


def _print_result(result, *, verbose: bool = True) -> None:
    from ..core import contract as c
    from ..core.textable import render

    if verbose:
        rows = []
        for ind in result.indicators:
            ev = result.evaluations[ind.id]
            rows.append([ind.id, ev.symbol, result.consolidated[ind.id].actual, ind.target, ind.name, ev.reason])
        # The headers of 一覧 and 指標 the columns come from (the list's 評価 and 実績値).
        heads = [c.INDICATOR_HEADERS["id"], c.LIST_COLUMNS[c.LIST_SYMBOL_COL], c.LIST_COLUMNS[c.LIST_ACTUAL_COL],
                 c.INDICATOR_HEADERS["target"], c.INDICATOR_HEADERS["name"], "理由"]
        print(render(heads, rows, [8, 4, 18, 30, 36, 60]))
        print()
    print(result.summary.line())


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate the FY2023 reference list, or a master workbook when one is given."""
    if args.master:
        from ..safety import open_note
        from ..workbook.session import load_master

        data = load_master(Path(args.master))
        settings, indicators, entries, extra = data.settings, data.indicators, data.entries, data.findings
        if note := open_note(Path(args.master)):
            print(note)
    else:
        from ..core.reference import load_reference

        ref = load_reference(args.sample)
        settings, indicators, entries, extra = ref.settings, ref.indicators, ref.entries, ()
    from ..core.pipeline import recalculate

    result = recalculate(settings, indicators, entries, extra)
    _print_result(result, verbose=not args.quiet)
    return 0


# Which module registers which command, so one command imports only its own module.
WORKBOOK_COMMANDS = ("init", "validate", "recalc", "upgrade-macros", "demo")
CYCLE_COMMANDS = ("split", "collect", "export")
YEAR_COMMANDS = ("rollover", "history")
SERVER_COMMANDS = ("serve",)


class _Only:
    """Subparsers of the one command asked for; the others are not built.

    Every command is a fresh process and building all ten subparsers costs about 5 ms of a
    run of about 100 ms on the FY2023 master (benchmarks/run.py); help and typos get the
    full parser.
    """

    def __init__(self, sub, wanted: str):
        self._sub, self.wanted, self.built = sub, wanted, False

    def add_parser(self, name, **kwargs):
        if name != self.wanted:
            return _Ignored()
        self.built = True
        return self._sub.add_parser(name, **kwargs)


class _Ignored:
    def __getattr__(self, _name):
        return lambda *args, **kwargs: self


def _add_workbook_commands(sub) -> None:
    """Workbook and mail-cycle commands live in their own modules; this file only routes.

    Importing them costs nothing heavy: each handler imports what its command needs itself.
    """
    wanted = getattr(sub, "wanted", None)
    if wanted is None or wanted in WORKBOOK_COMMANDS:
        from . import workbook

        workbook.register(sub)
    if wanted is None or wanted in CYCLE_COMMANDS:
        from . import cycle

        cycle.register(sub)
    if wanted is None or wanted in YEAR_COMMANDS:
        from . import years

        years.register(sub)
    if wanted is None or wanted in SERVER_COMMANDS:
        from . import server

        server.register(sub)


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    parser = JapaneseParser(
        prog="renkei-xl",
        description="さっぽろ連携中枢都市圏 連携事業実施状況等一覧の入力チェック・集約・評価・配布")
    parser.add_argument("--version", action="version", version=f"renkei-xl {__version__}",
                        help="バージョンを表示する")
    parser.add_argument("--debug", action="store_true", help="予期しないエラーの詳細（トレースバック）を表示する")
    sub = parser.add_subparsers(dest="command", metavar="コマンド")
    if only is not None:
        sub = _Only(sub, only)
    p = sub.add_parser("evaluate", help="評価を計算して表で表示する（ブックを指定しなければ 2023年度の見本）")
    p.add_argument("master", metavar="マスター", nargs="?", help=MASTER_HELP)
    p.add_argument("--sample", default="fy2023", choices=SAMPLE_NAMES, help="見本データ名（既定: fy2023）")
    p.add_argument("-q", "--quiet", action="store_true", help="集計行だけを表示する")
    p.set_defaults(func=cmd_evaluate)
    _add_workbook_commands(sub)
    if only is not None and not sub.built:
        return build_parser()
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # --debug is a switch of the whole program; accepted after the command too, where IT
    # staff asked to add it at the end of a command line will put it.
    debug = "--debug" in args_list
    args_list = [a for a in args_list if a != "--debug"]
    command = next((a for a in args_list if not a.startswith("-")), None)
    asks_help = any(a in ("-h", "--help") for a in args_list[:1])
    parser = build_parser(None if asks_help else command)
    args = parser.parse_args(args_list)
    args.debug = debug
    func: Optional[Callable[[argparse.Namespace], int]] = getattr(args, "func", None)
    if func is None:   # no command: usage on standard error, exit 2 as argparse does for errors
        parser.print_help(sys.stderr)
        return 2
    from ..safety import replaced

    written_before = replaced()[0]
    try:
        _missing_macros_note(args)
        return func(args)
    except UserError as exc:
        print(f"エラー: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        # Whether the master was written before Ctrl+C came (it lands between any two steps,
        # after the rename as well as before): 「中断しました」 alone left staff to guess, and
        # run the command again on a master already written, or trust one that was not.
        print(f"中断しました。{_written_state(written_before, INTERRUPTED)}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output went away (``| head``): what was to be done is done.
        _quiet_stdout()
        return 1
    except OSError as exc:
        if debug:
            raise
        from ..safety import place_refusal

        if (said := place_refusal(exc)) is not None:
            # rights, a read-only volume, no room, where no step said it itself: staff can
            # mend it; the details are still kept, for the step that should have named it
            print(f"エラー: {said}{_written_state(written_before)}詳細を {_log_error(argv)} に記録しました。",
                  file=sys.stderr)
            return 2
        if exc.errno != errno.ENAMETOOLONG:
            return _unexpected(exc, debug, argv, written_before)
        # A path staff typed that the file system cannot hold, met wherever it is first used.
        from ..safety import name_too_long

        problem = name_too_long(Path(os.fsdecode(exc.filename or "")).name)
        print(f"エラー: {problem}" if problem else
              f"エラー: 「{exc.filename}」は名前が長すぎて扱えません。短い名前にしてください。"
              "何も書き込んでいません", file=sys.stderr)
        return 2
    except Exception as exc:  # the last guard: staff get a sentence, developers --debug
        return _unexpected(exc, debug, argv, written_before)


def _missing_macros_note(args: argparse.Namespace) -> None:
    """【注意】 before any command on an .xlsm master that lost its buttons' modules or the
    buttons themselves (vba.missing): LibreOffice loses them without a word, and every
    command went on as if nothing were wrong until a button did nothing in Excel. A note,
    not a refusal: the data is all there and the command works on it. upgrade-macros says
    what it puts back itself."""
    master = getattr(args, "master", None)
    if not isinstance(master, str) or args.command == "upgrade-macros":
        return
    from ..vba.missing import missing_macros, missing_said

    try:
        missing = missing_macros(Path(master))
    except Exception:   # a note only: the command's own reading of a damaged file says why
        return
    if missing:
        print(f"【注意】{missing_said(Path(master).name, missing)}。")


def _unexpected(exc: BaseException, debug: bool, argv, written_before: int) -> int:
    if debug:
        raise exc
    released(exc)       # what the failed work held, freed before the log's record needs memory
    log = _log_error(argv)
    said = out_of_memory() if isinstance(exc, MemoryError) else f"予期しないエラーが発生しました（{type(exc).__name__}: {exc}）。"
    print(f"{said}{_written_state(written_before)}"
          f"詳細を {log} に記録しました。担当者にこのファイルを送ってください。", file=sys.stderr)
    return 3


def _written_state(written_before: int, stopped: str = "エラーの前に") -> str:
    """Whether the command replaced files before it stopped (safety.replaced counts them),
    and how many: a split stopped halfway named only its last file, though it had replaced
    sixteen and not the rest (its list is printed only at the end), and staff mailed from a
    folder holding two issues. ``stopped``: what stopped it, as the sentence says it;
    stopped by Ctrl+C, running it again writes the rest (an error may only come again)."""
    from ..safety import replaced, unfinished_set

    count, last, backed_up = replaced()
    written = count - written_before
    if written == 0:
        return "ブックは変更していません。"
    again = "もう一度実行してください。" if stopped == INTERRUPTED else ""
    if pending := unfinished_set():
        # A 確定版 written and its PDF or draft not yet: staff mail the folder's files as a
        # pair, and 「書き込み済みです」 alone read as the export done.
        names = "」「".join(p.name for p in pending)
        unpaired = (f"一緒に書き込むはずだった「{names}」は前のままで、組がそろっていません。"
                    f"{again or 'そろえるには、もう一度実行してください。'}")
    else:
        unpaired = ""
    if written == 1:
        return (f"ただし、{stopped}「{last}」は書き込み済みです{'（前の内容はバックアップにあります）' if backed_up else ''}。"
                f"{unpaired}")
    return (f"ただし、{stopped}ファイル {written} 個を書き込み済みです（最後は「{last}」）。"
            f"ほかに書き込むはずだったファイルは前のままです。{unpaired or again}")


INTERRUPTED = "中断の前に"


def _quiet_stdout() -> None:
    """Point standard output at the null device, so the flush at exit cannot fail again."""
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _printable_streams() -> None:
    """A character the console cannot show (an emoji in a file name on a cp932 console)
    is printed as an escape instead of failing the command after its work is done; and a
    character the console would obey rather than show, as its code (_ShownControls)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    if not isinstance(sys.stdout, _ShownControls):
        sys.stdout, sys.stderr = _ShownControls(sys.stdout), _ShownControls(sys.stderr)


# What a console obeys instead of showing: control characters but the line feed and the tab
# (ESC starts a sequence that clears the screen or colours what follows, C1's CSI the same),
# a carriage return that ends no line (it sends the cursor back over what the line said), and
# the bidirectional controls (core.values.BIDI_CONTROLS: they reorder what follows). Made at
# the first text that is not all printable: core.values is no import of a command's start.
@functools.lru_cache(maxsize=1)
def _obeyed() -> "re.Pattern[str]":
    from ..core.values import BIDI_CONTROLS

    return re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f" + "".join(sorted(BIDI_CONTROLS)) + "]|\r(?!\n)")


def shown_controls(text: str) -> str:
    """``text`` as the command line prints it: each character _obeyed finds as 「[U+001B]」, as
    core.values.shown quotes one. Texts from the master and the returned files reach the
    console whole (evaluate's table, collect's change lines): 「5件\r小樽市!G2 … → 5件」 from
    a return printed a change line that read as another."""
    return _obeyed().sub(lambda m: f"[U+{ord(m.group()):04X}]", text) if not text.isprintable() else text


class _ShownControls:
    """A console stream whose writes go through shown_controls; everything else is the stream's."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(shown_controls(text))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def run() -> None:
    """The ``renkei-xl`` program (and ``python -m renkei_xl.cli``): main(), then the process ends.

    What the run leaves behind is frozen first (gc.freeze), so Python's last collection at
    exit neither walks nor frees it and the operating system takes the memory back at once:
    about 8 ms of a 125 ms recalc of the FY2023 master. Not in main(), which tests call in a
    process that goes on. Python never promised finalizers at exit; the tool closes its
    files and locks itself.
    """
    _printable_streams()
    code = main()
    gc.freeze()
    sys.exit(code)


def _log_error(argv) -> str:
    from ..errorlog import CLI_LOG, log_error, log_path

    try:
        log = log_error(log_path(CLI_LOG), f"renkei-xl {' '.join(argv or sys.argv[1:])}")
    except MemoryError:     # memory another process took: the sentence is still said
        log = None
    return "（ログを書けませんでした）" if log is None else str(log)
