"""conftest.rewrite_share: each pytest-xdist worker rewrites its share of the test modules
before collecting (perf-109), into the cache file pytest's own import hook writes and reads.
"""

from __future__ import annotations

import sys
import types

import pytest
from _pytest.assertion import rewrite

import conftest
from conftest import rewrite_share


def _modules(folder, sizes: dict[str, int]) -> list:
    """Test modules of about ``sizes`` bytes each, each with an assert pytest rewrites."""
    files = []
    for name, size in sizes.items():
        path = folder / f"test_{name}.py"
        body = f"def test_{name}():\n    x = {size}\n    assert x == {size}\n"
        path.write_text(body + "#" * max(0, size - len(body)) + "\n")
        files.append(path)
    return files


def _cached(path):
    return rewrite.get_cache_dir(path) / (path.name[:-3] + rewrite.PYC_TAIL)


@pytest.fixture
def writing(monkeypatch):
    """Bytecode written, as `make test` has it (this machine's shell sets PYTHONDONTWRITEBYTECODE)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def test_the_workers_shares_cover_every_module_once_and_weigh_about_the_same(tmp_path, request, writing):
    files = _modules(tmp_path, {"a": 9000, "b": 5000, "c": 4000, "d": 3000, "e": 2000, "f": 1000, "g": 500})
    shares = [rewrite_share(request.config, 3, i, files) for i in range(3)]
    assert sorted(p for share in shares for p in share) == sorted(files)
    weights = [sum(p.stat().st_size for p in share) for share in shares]
    assert max(weights) - min(weights) <= 9000 - 5000, weights
    assert all(rewrite_share(request.config, 3, i, files) == [] for i in range(3))     # each there already


def test_a_share_is_the_cache_file_pytests_import_hook_reads(tmp_path, request, writing):
    """What the import hook would have written: the rewritten code (the assert's explanation
    included) under the name and with the source hash it checks (``_read_pyc``)."""
    (path,) = _modules(tmp_path, {"one": 100})
    assert rewrite_share(request.config, 1, 0, [path]) == [path]
    read = rewrite._read_pyc(path, _cached(path))
    assert read is not None
    assert read == rewrite._rewrite_test(path, request.config)[1]
    test = next(c for c in read.co_consts if isinstance(c, types.CodeType))
    assert any(name.startswith("@py_assert") for name in test.co_varnames)     # rewritten, not compiled
    path.write_text(path.read_text().replace("x = 100", "x = 101"))         # another source: written anew
    assert rewrite_share(request.config, 1, 0, [path]) == [path]


def test_nothing_is_written_where_pytest_writes_no_bytecode(tmp_path, request, monkeypatch):
    (path,) = _modules(tmp_path, {"none": 100})
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert rewrite_share(request.config, 1, 0, [path]) == []
    assert not _cached(path).exists()


def test_a_worker_rewrites_its_share_when_its_session_starts(tmp_path, request, monkeypatch, writing):
    """pytest_sessionstart in a worker (xdist's ``workerinput``), not in a process of its own."""
    files = _modules(tmp_path, {"big": 6000, "mid": 3000, "small": 2000})
    monkeypatch.setattr(conftest, "TEST_FOLDER", tmp_path)

    class Worker:
        workerinput = {"workerid": "gw1", "workercount": 2}

        def __getattr__(self, name):
            return getattr(request.config, name)

    conftest.pytest_sessionstart(types.SimpleNamespace(config=_Alone(request.config)))
    assert not any(_cached(p).exists() for p in files)
    conftest.pytest_sessionstart(types.SimpleNamespace(config=Worker()))
    assert [p.name for p in files if _cached(p).exists()] == ["test_mid.py", "test_small.py"]


class _Alone:
    """A process without xdist: the config as it is, no ``workerinput``."""

    def __init__(self, config):
        self._config = config

    def __getattr__(self, name):
        if name == "workerinput":
            raise AttributeError(name)
        return getattr(self._config, name)
