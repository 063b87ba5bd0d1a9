"""The README's command list (Developers: Commands) names every command and option the
command line has: it once left out init's --server and --force, split's --deadline,
serve's TLS files and more, so a reader of the README could not find them."""

import argparse
import re
from pathlib import Path

from renkei_xl.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _listed() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("### Commands"):]
    block = block[block.index("```sh") + 5:]
    block = block[:block.index("```")]
    listed: dict[str, set[str]] = {}
    command = None
    for line in block.splitlines():
        m = re.match(r"renkei-xl (\S+)", line)
        if m:
            command = m.group(1) if not m.group(1).startswith("-") else None
            if command == "history":
                command = "history " + line.split()[2]
        if command:
            listed.setdefault(command, set()).update(re.findall(r"(?<![\w-])--?[a-z][a-z-]*", line.split("#")[0]))
    return listed


def _options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _options(sub)
                if nested:
                    out.update({f"{name} {k}": v for k, v in nested.items()})
                else:
                    out[name] = {tuple(a.option_strings) for a in sub._actions
                                 if a.option_strings and "--help" not in a.option_strings}
    return out


def test_every_command_and_option_is_in_the_readme():
    listed, actual = _listed(), _options(build_parser())
    assert set(listed) == set(actual)
    missing = {cmd: sorted(o[-1] for o in opts if not listed[cmd] & set(o)) for cmd, opts in actual.items()}
    known = {cmd: {s for o in opts for s in o} for cmd, opts in actual.items()}
    extra = {cmd: sorted(listed[cmd] - known[cmd]) for cmd in actual}
    missing = {cmd: o for cmd, o in missing.items() if o}
    extra = {cmd: o for cmd, o in extra.items() if o}
    assert missing == {} and extra == {}
