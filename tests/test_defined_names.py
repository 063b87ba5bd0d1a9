"""No name the package uses is left undefined. Python finds such a name only when the line
runs, and a line that builds a rare refusal may first run at a staff member's desk as
「予期しないエラー」: two merges of one day left a NameError in export's note on characters
the PDF's fonts lack and in consolidation's 「…ではありません」 refusal, each found only by a
test that happened to reach it. pyflakes reads every module without running it."""

from __future__ import annotations

from pathlib import Path

from pyflakes.api import checkPath
from pyflakes.messages import UndefinedExport, UndefinedLocal, UndefinedName
from pyflakes.reporter import Reporter

PACKAGE = Path(__file__).resolve().parents[1] / "renkei_xl"
UNDEFINED = (UndefinedName, UndefinedLocal, UndefinedExport)


class _Kept(Reporter):
    """The messages pyflakes reports, kept rather than printed."""

    def __init__(self):
        super().__init__(None, None)
        self.found: list[str] = []

    def flake(self, message):
        if isinstance(message, UNDEFINED):
            self.found.append(str(message))

    def syntaxError(self, filename, msg, lineno, offset, text):
        self.found.append(f"{filename}:{lineno}: {msg}")

    def unexpectedError(self, filename, msg):
        self.found.append(f"{filename}: {msg}")


def _undefined(paths) -> list[str]:
    kept = _Kept()
    for path in paths:
        checkPath(str(path), kept)
    return kept.found


def test_every_name_the_package_uses_is_defined():
    assert _undefined(sorted(PACKAGE.rglob("*.py"))) == []


def test_an_undefined_name_is_caught(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text('def note(found):\n    return f"{found}{more}。"\n', encoding="utf-8")
    assert [m.split(": ", 1)[1] for m in _undefined([planted])] == ["undefined name 'more'"]
