"""What every command pays at its start stays paid for a reason (docs/performance.md).

Each command is a fresh Python. A record (typing.NamedTuple) whose annotations are strings
makes typing compile each into a ForwardRef, and the first compile() of a process builds
all of the ast module's types: about 9 M instructions, 3 ms, for nothing the tool uses.
The modules on the recalc and check path therefore write their annotations so that none is
made; this guards that no module brings one back.
"""

import subprocess
import sys

import pytest

from realbooks import sample_master

COUNTING = """
import sys, typing
made = []
original = typing.ForwardRef.__init__
def counted(self, arg, *args, **kwargs):
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.endswith("typing.py"):
        frame = frame.f_back
    made.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {arg!r}" if frame else repr(arg))
    return original(self, arg, *args, **kwargs)
typing.ForwardRef.__init__ = counted
from renkei_xl.cli import main
code = main(sys.argv[1:])
print("\\n".join(made))
sys.exit(code)
"""


@pytest.mark.parametrize("command", ["recalc", "validate"])
def test_a_command_on_the_master_makes_no_forward_reference(tmp_path, command):
    master = sample_master(tmp_path / "m.xlsx")
    run = subprocess.run([sys.executable, "-c", COUNTING, command, str(master)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    made = [line for line in run.stdout.splitlines() if "renkei_xl" in line]
    assert made == [], "\n".join(made)


LOADED = """
import sys
from renkei_xl.cli import main
code = main(sys.argv[1:])
print("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""
# Standard-library modules no check or recalc needs, each heavy to import: xml.sax.saxutils
# alone pulls urllib.request, http.client, email and ssl (20 ms of a 95 ms FY2023 recalc);
# html's entity table costs 2 ms. package.xml.unescape is why none is needed. defusedxml
# imports a second, pure-Python ElementTree (4 ms) and is needed only for a part whose prolog
# declares a DTD, which no application's master has (package.xml._parse_defused). hashlib
# loads OpenSSL's library (2.4 ms): the kept styles parses are keyed by their bytes.
HEAVY = ("urllib.request", "http.client", "email", "ssl", "socket", "smtplib", "xml.sax", "html.entities",
         "defusedxml", "hashlib")


@pytest.mark.parametrize("command", ["recalc", "validate"])
def test_a_second_click_on_a_master_loads_no_heavy_library(tmp_path, command):
    """The second click is the one that counts: the first recalc adds the tool's charts,
    and reading their names once imported xml.sax.saxutils on every later click."""
    master = sample_master(tmp_path / "m.xlsx")
    first = subprocess.run([sys.executable, "-m", "renkei_xl.cli", "recalc", str(master)],
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    run = subprocess.run([sys.executable, "-c", LOADED, command, str(master)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    loaded = set(run.stdout.splitlines())
    assert "renkei_xl.package.drawing" in loaded or command == "validate"
    assert sorted(loaded & set(HEAVY)) == []


def test_no_module_imports_saxutils():
    """xml.sax.saxutils imports urllib.request, http.client, email and ssl: 20 ms wherever a
    command reaches it (three modules took it for one escape or unescape, each found only on
    the click that read that part). package.xml.escape, .attr and .unescape do the same."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "renkei_xl"
    found = [str(p.relative_to(root)) for p in root.rglob("*.py") if "xml.sax" in p.read_text(encoding="utf-8")
             and "saxutils import" in p.read_text(encoding="utf-8")]
    assert found == []


ASKED = """
import re, sys
compile_now = re.compile
made = []


class Watched:
    # A module-level pattern, marked when the run first asks it anything.
    def __init__(self, compiled, where):
        self.compiled, self.where, self.asked = compiled, where, False

    def __getattr__(self, name):
        self.asked = True
        return getattr(self.compiled, name)


def watched(pattern, flags=0):
    caller = sys._getframe(1)
    compiled = compile_now(pattern, flags)
    if caller.f_code.co_name != "<module>" or "renkei_xl" not in caller.f_code.co_filename:
        return compiled
    made.append(Watched(compiled, f"{caller.f_code.co_filename}:{caller.f_lineno}"))
    return made[-1]


re.compile = watched
from renkei_xl.cli import main
code = main(sys.argv[1:])
print("\\n".join(p.where for p in made if not p.asked))
sys.exit(code)
"""


@pytest.mark.parametrize("command", ["recalc", "validate"])
def test_a_command_compiles_no_pattern_it_never_asks(tmp_path, command):
    """A module-level ``re.compile`` is paid at every start: a recalc of the FY2023 master
    compiled 64 patterns it never asked (about 5 ms of a 95 ms process, perf-111), validate
    one more (the writer's). Such a pattern is a core.lazy_pattern.LazyPattern, compiled
    where it is first asked."""
    master = sample_master(tmp_path / "m.xlsx")
    run = subprocess.run([sys.executable, "-c", ASKED, command, str(master)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    never = [line.split("renkei_xl/")[-1] for line in run.stdout.splitlines() if "renkei_xl" in line]
    assert never == [], "\n".join(never)


def test_a_lazy_pattern_answers_as_the_compiled_one():
    """Compiled on the first question, then asked through the compiled pattern's own
    methods; its text is there before (a pattern built from another's compiles neither)."""
    import re

    from renkei_xl.core.lazy_pattern import LazyPattern

    lazy = LazyPattern(r"(a+)(b)?", re.I)
    assert lazy.pattern == r"(a+)(b)?" and "search" not in vars(lazy)
    assert lazy.fullmatch("AAb").groups() == ("AA", "b")
    assert vars(lazy)["search"].__self__ is vars(lazy)["fullmatch"].__self__   # compiled once
    assert lazy.sub("x", "caab") == "cx" and lazy.findall("a ab") == [("a", ""), ("a", "b")]
    assert lazy.flags == re.compile(r"(a+)(b)?", re.I).flags and lazy.groups == 2
    assert [m.span() for m in LazyPattern(rb"b").finditer(b"abcb", 2)] == [(3, 4)]
    try:
        lazy.nothing
    except AttributeError:
        pass
    else:
        raise AssertionError("an unknown attribute must not compile or answer")


def test_an_element_is_found_without_a_pattern_per_tag(monkeypatch):
    """package.xml.element_span compiled a pattern for each tag it was asked (eleven on every
    recalc); it finds the tag with str methods now, and answers as that pattern did."""
    import re

    from renkei_xl.package.xml import PackageError, element_span

    def as_the_pattern_did(text, tag, start=0):
        m = re.compile(r"<" + re.escape(tag) + r"(?=[\s/>])[^>]*?(/?)>", re.S).search(text, start)
        if m is None:
            return None
        if m.group(1) == "/":
            return m.start(), m.end(), m.end(), m.end()
        close = text.find(f"</{tag}>", m.end())
        return "unclosed" if close < 0 else (m.start(), m.end(), close, close + len(tag) + 3)

    texts = ['<a><calcPr/><calcPrX/><calcPr calcId="1"/></a>', '<calcPr\tx="/"></calcPr>', "<calcPr",
             "<calcPrx><calcPr\u3000/>", '<x:sheets><x:sheet r:id="1"/></x:sheets>', "<calcPr>",
             '<calcPr a="1" /><calcPr/>', "<calcPr\n/>", "<calcPr/", "<sheets></sheets><sheets/>"]
    asked, compile_now = [], re.compile
    monkeypatch.setattr(re, "compile", lambda *args: asked.append(args[0]) or compile_now(*args))
    found = {}
    for text in texts:
        for tag in ("calcPr", "x:sheets", "sheets", "a"):
            for start in range(len(text) + 1):
                try:
                    found[text, tag, start] = element_span(text, tag, start)
                except PackageError:
                    found[text, tag, start] = "unclosed"
    assert asked == []
    monkeypatch.undo()
    assert {key: as_the_pattern_did(*key) for key in found} == found


def test_every_lazy_pattern_compiles():
    """A pattern compiled where first asked would show a mistake in its text only there, on
    the rare file that asks it; each one is compiled here instead."""
    import importlib
    from pathlib import Path

    from renkei_xl.core.lazy_pattern import LazyPattern

    root = Path(__file__).resolve().parents[1] / "renkei_xl"
    modules = [".".join(p.relative_to(root.parent).with_suffix("").parts) for p in sorted(root.rglob("*.py"))
               if "LazyPattern(" in p.read_text(encoding="utf-8") and p.name != "lazy_pattern.py"]
    lazy = [(name, key, value) for name in modules for key, value in vars(importlib.import_module(name)).items()
            if isinstance(value, LazyPattern)]
    assert len(lazy) >= 64
    for name, key, value in lazy:
        assert isinstance(value.flags, int), f"{name}.{key}"


def test_the_first_recalc_of_a_new_master_loads_no_builder(tmp_path):
    """The first recalc of a macro master adds 一覧's and 集計's document modules, named by
    the tool's code names (core.contract.CODE_NAMES). Those lived in the builder of new files,
    and asking for them imported XlsxWriter (about 15 ms) into every master's first click."""
    master = sample_master(tmp_path / "m.xlsm")
    run = subprocess.run([sys.executable, "-c", LOADED, "recalc", str(master)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    loaded = set(run.stdout.splitlines())
    assert "renkei_xl.workbook.apply" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] == "xlsxwriter" or m == "renkei_xl.workbook.build") == []
