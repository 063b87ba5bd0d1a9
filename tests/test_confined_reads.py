"""A server click reads the master as it opens it: in its own folder, or not at all.

The server checks the year's folder when the click is admitted (server.place), then reads
the master by its path, again and again, for seconds: admission's key and protection, the
button's read, split's, rollover's, the saved fills. A year folder swapped meanwhile for a
link to another region's folder (someone on the share renaming it) made the click read,
and answer with, the other region's master. Every package is now opened once and judged as
opened (safety.open_confined, in package.zipped.Package), as collect's returns were.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renkei_xl import safety
from renkei_xl.cli.workbook import init_master
from test_buttons import licensed  # noqa: F401  (the remote engine, with its test key)

FOLDER = "2023年度"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return init_master(tmp_path_factory.mktemp("confined_reads") / "master.xlsm", sample="fy2023")


def _swapped(tmp_path: Path, sample: Path) -> Path:
    """A work folder whose year folder, once the click is confined to it, is swapped for a
    link to another region's folder holding a master of the same name: the master's path."""
    year = tmp_path / "work" / FOLDER
    year.mkdir(parents=True)
    master = year / "master.xlsm"
    shutil.copyfile(sample, master)
    other = tmp_path / "work" / "他の圏域"
    other.mkdir()
    shutil.copyfile(sample, other / "master.xlsm")
    return master


def _swap(year: Path) -> None:
    year.rename(year.with_name("移した"))
    year.symlink_to(year.with_name("他の圏域"), target_is_directory=True)


@pytest.mark.parametrize("reader", ["opened", "read_master_grids", "master_key_of_file", "protection_of",
                                    "saved_fills"])
def test_a_master_read_after_its_folder_became_a_link_is_not_read(tmp_path, sample, reader):
    from renkei_xl.cycle.distribute import master_key_of_file, read_master_grids
    from renkei_xl.excel.remote import SavedFills
    from renkei_xl.server.place import protection_of
    from renkei_xl.workbook.session import opened

    master = _swapped(tmp_path, sample)
    with safety.confined(master.parent):
        _swap(master.parent)
        if reader == "saved_fills":     # it says UNKNOWN for what it cannot read: never the other's fill
            fills = SavedFills(str(master))
            assert fills("設定", "A1") == SavedFills.UNKNOWN
            assert fills._reader is None
            return
        read = {"opened": lambda p: opened(p).__enter__(), "read_master_grids": read_master_grids,
                "master_key_of_file": master_key_of_file, "protection_of": protection_of}[reader]
        with pytest.raises(safety.OutsideFolder, match="このマスターのフォルダーの外を指すリンクです"):
            read(master)


def test_a_master_read_in_its_folder_is_read(tmp_path, sample):
    """The check takes nothing from a click whose folder stays as it was."""
    from renkei_xl.cycle.distribute import read_master_grids

    master = _swapped(tmp_path, sample)
    with safety.confined(master.parent):
        assert read_master_grids(master)[0].settings.fiscal_year == 2023


def test_admission_reads_the_master_it_checked_or_refuses(tmp_path, licensed):  # noqa: F811
    """Admission checks the folder (Place.master), then reads the master's key, macros and
    protection by path: the folder swapped for a link right after the check (here, as the
    check returns) had it read the other region's master and admit the click."""
    from remote_payload import VBA, payload_from_file

    from renkei_xl.core import contract as c
    from renkei_xl.core.seal import master_id
    from renkei_xl.cycle.distribute import master_key_of_file
    from renkei_xl.server.admission import admit
    from renkei_xl.server.place import Place
    from renkei_xl.server.refusals import Refusal

    year = tmp_path / "work" / FOLDER
    year.mkdir(parents=True)
    master = init_master(year / "master.xlsm", sample="fy2023", server="http://127.0.0.1:1", server_folder=FOLDER)
    (tmp_path / "work" / "他の圏域").mkdir()
    shutil.copyfile(master, tmp_path / "work" / "他の圏域" / "master.xlsm")
    sent = master_id(master_key_of_file(master))
    payload = payload_from_file(master, client=VBA)

    class SwappedAfterTheCheck(Place):
        def master(self, live):
            path = super().master(live)
            _swap(path.parent)          # someone on the share, as the check returns
            return path

    with pytest.raises(Refusal) as refused:
        admit(SwappedAfterTheCheck(tmp_path / "work"), c.SPLIT, payload, sent)
    assert "このマスターのフォルダーの外を指すリンクです" in refused.value.text, refused.value.text


def test_a_click_whose_folder_became_a_link_after_admission_neither_reads_nor_writes_there(tmp_path, licensed):  # noqa: F811
    """Between admission and the button's run the year folder is swapped for a link: the
    click is confined to the folder as admission resolved it, not to where the link leads
    now. Resolved again, the confinement followed the link, and split read the other
    region's master and wrote its 配布用."""
    from remote_payload import VBA, payload_from_file

    from renkei_xl.core import contract as c
    from renkei_xl.core.seal import master_id
    from renkei_xl.cycle.distribute import master_key_of_file
    from renkei_xl.server.admission import admit
    from renkei_xl.server.app import _ran
    from renkei_xl.server.place import Place

    year = tmp_path / "work" / FOLDER
    year.mkdir(parents=True)
    master = init_master(year / "master.xlsm", sample="fy2023", server="http://127.0.0.1:1", server_folder=FOLDER)
    other = tmp_path / "work" / "他の圏域"
    other.mkdir()
    shutil.copyfile(master, other / "master.xlsm")
    payload = payload_from_file(master, client=VBA)
    place = Place(tmp_path / "work")
    folder = admit(place, c.SPLIT, payload, master_id(master_key_of_file(master)))
    _swap(folder)
    written: list = []
    status, answer, _outcome = _ran("split", payload, place, folder, "qa105", c.SPLIT, written)
    assert written == [] and sorted(p.name for p in other.iterdir()) == ["master.xlsm"], (written, answer)
    assert "このマスターのフォルダーの外を指すリンクです" in str(answer), answer
