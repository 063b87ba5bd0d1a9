"""A quiet install: every folder of the package that Python could import is declared, so
setuptools has nothing to warn about, and the data files travel with it."""

from __future__ import annotations

from pathlib import Path

from setuptools.config.setupcfg import read_configuration

ROOT = Path(__file__).resolve().parents[1]


def _config():
    return read_configuration(str(ROOT / "setup.cfg"))["options"]


def test_every_importable_folder_is_a_declared_package():
    """setuptools warns "Package ... is absent from the packages configuration" for each
    folder with a valid name that holds files but is not listed."""
    declared = set(_config()["packages"])
    folders = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "renkei_xl").rglob("*")
               if p.is_dir() and p.name.isidentifier() and p.name != "__pycache__"
               and any(q.is_file() for q in p.iterdir())}
    folders.add("renkei_xl")
    assert folders <= declared, folders - declared
    assert not any("__pycache__" in p for p in declared)


def test_the_data_files_are_package_data():
    data = _config()["package_data"]
    for path in (ROOT / "renkei_xl").rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            package = ".".join(path.parent.relative_to(ROOT).parts)
            patterns = data.get(package, [])
            assert any(path.match(pattern) for pattern in patterns), (package, path.name)


def test_editable_installs_are_a_plain_path_entry():
    """With the packages at the top, package_dir {"": "."} makes setuptools' editable
    install a .pth line (no import hook, whose "Editable installation" notice pip 24+
    prints as a warning)."""
    assert _config()["package_dir"] == {"": "."}
