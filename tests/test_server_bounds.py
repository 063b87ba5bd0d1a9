"""A server worker runs for weeks: nothing it keeps across clicks may grow with the number of
masters, files or texts it has met (task qa-121).

A soak of the real server (a few thousand clicks over a hundred masters in their own
folders, refused and abandoned clicks among them) kept its memory, open files, threads,
temporary files, work folder and log flat; what could still grow without a bound were the
caches that kept one entry per value a file chose. These tests count entries rather than
measure memory, so that they are deterministic and quick.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import renkei_xl
from renkei_xl.package import cells
from renkei_xl.package.cells import SheetCells
from renkei_xl.package.xml import MAIN_NS


def _package_caches() -> dict[str, object]:
    """Every functools cache a module of renkei_xl defines, by its qualified name."""
    out = {}
    for found in pkgutil.walk_packages(renkei_xl.__path__, "renkei_xl."):
        if found.name.endswith("__main__"):        # runs the command line when imported
            continue
        module = importlib.import_module(found.name)
        for name, obj in vars(module).items():
            if callable(getattr(obj, "cache_parameters", None)) and getattr(obj, "__module__", None) == module.__name__:
                out[f"{module.__name__}.{name}"] = obj
    return out


def test_every_cache_of_the_package_has_a_bound():
    """A cache with maxsize=None keeps every key it is asked for as long as the process
    lives: for a server worker, every namespace prefix, column number or character any
    master brought. Only a cache of a function without arguments (one entry) may do without."""
    caches = _package_caches()
    assert len(caches) > 30, sorted(caches)       # the walk found the package's caches
    unbounded = [name for name, cached in caches.items()
                 if cached.cache_parameters()["maxsize"] is None
                 and inspect.signature(inspect.unwrap(cached)).parameters]
    assert unbounded == []


def _sheet(prefix: str) -> str:
    p = f"{prefix}:"
    return (f'<{p}worksheet xmlns:{prefix}="{MAIN_NS}"><{p}sheetData><{p}row r="1"><{p}c r="A1" t="inlineStr">'
            f"<{p}is><{p}t>x</{p}t></{p}is></{p}c></{p}row></{p}sheetData></{p}worksheet>")


def test_sheets_with_many_prefixes_leave_a_bounded_number_of_patterns():
    """Each sheet part is read with patterns compiled for its own namespace prefix: three
    times as many prefixes as are kept leave no more than the bound, and each sheet is still
    read whole."""
    from renkei_xl.package.xml import PREFIXES_KEPT

    for i in range(3 * PREFIXES_KEPT):
        sheet = SheetCells(_sheet(f"q121x{i}"), f"xl/worksheets/sheet{i}.xml", f"q121x{i}:")
        assert list(sheet.rows()) == [1]
    assert cells._pattern.cache_info().currsize <= 2 * PREFIXES_KEPT


def test_the_fitted_texts_kept_are_bounded_by_their_characters(monkeypatch):
    """text_fit keeps each text's line count for the next master (a split writes the same
    texts into 40 files), and a worker fits every text of every master clicked: 500,000
    entries of up to a cell's 32,767 characters could stay. What it keeps is bounded by the
    characters it holds; a fit is the same whether it came from the cache or not."""
    from renkei_xl.core import text_fit

    monkeypatch.setattr(text_fit, "_LINES", {})
    monkeypatch.setattr(text_fit, "_lines_chars", 0, raising=False)
    monkeypatch.setattr(text_fit, "_LINES_MAX_CHARS", 100_000, raising=False)
    first = "実施状況の文章" * 1_000 + "0"
    fitted = text_fit.lines(first, 20)
    for i in range(40):
        assert text_fit.lines(f"長い実施状況 {i} " + "あ" * 5_000, 20) > 1
    held = sum(len(text) for text, _cap in text_fit._LINES)
    assert 0 < held <= 100_000 and text_fit._lines_chars == held
    assert text_fit.lines(first, 20) == fitted


def test_the_master_key_is_read_once_per_version_of_the_file(tmp_path, monkeypatch):
    """Admission's identity check reads the saved master's key once per version of the file
    (server.place.master_key_of), not at every click; a file rewritten in place, even with
    its size and modification time as they were, is read again."""
    import os
    import time

    from renkei_xl.cycle import distribute
    from renkei_xl.server import place

    reads = []

    def key_of(path):
        reads.append(path)
        return path.read_bytes()

    monkeypatch.setattr(distribute, "master_key_of_file", key_of)
    place._master_key.cache_clear()
    master = tmp_path / "m.xlsm"
    master.write_bytes(b"key-1")
    assert [place.master_key_of(master) for _click in range(3)] == [b"key-1"] * 3
    assert len(reads) == 1
    before = master.stat()
    time.sleep(0.05)                       # past the file system's clock tick
    master.write_bytes(b"key-2")
    os.utime(master, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert place.master_key_of(master) == b"key-2" and len(reads) == 2
    place._master_key.cache_clear()


def test_an_answer_is_encoded_once(tmp_path, monkeypatch):
    """The JSON of a click's answer is made once: _ran measures it against what the client
    takes and the endpoint sends the same bytes (server.app._answer_json); it was encoded
    twice. An answer numbered since (a stopped click's 受付番号) is encoded as numbered."""
    from renkei_xl.server import app, limits
    from renkei_xl.server.place import Place

    made = []
    encode = limits.answer_json
    monkeypatch.setattr(limits, "answer_json", lambda answer: made.append(1) or encode(answer))
    done = {"actions": [{"func": "alert", "args": ["入力チェックが終わりました。", "t", "ok", "info", ""]}]}
    monkeypatch.setattr(app, "run_button", lambda *_args: done)
    seen: dict = {}
    status, answer, _outcome = app._ran("check", {}, Place(tmp_path, request_id="ab12"), tmp_path, "ab12", "入力チェック",
                                        [], None, seen)
    assert status == 200 and app._answer_json(app._numbered_refusal(answer, "ab12"), seen) == encode(done)
    assert len(made) == 1
    stopped = {"actions": [{"func": "alert", "args": ["止めました。", "t", "ok", "critical", ""]}]}
    monkeypatch.setattr(app, "run_button", lambda *_args: stopped)
    seen = {}
    _status, answer, _outcome = app._ran("check", {}, Place(tmp_path, request_id="ab12"), tmp_path, "ab12", "入力チェック",
                                         [], None, seen)
    assert "受付番号 ab12" in app._answer_json(app._numbered_refusal(answer, "ab12"), seen).decode("utf-8")
