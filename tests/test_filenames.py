"""File names made from workbook content, and the write point's confinement.

Every name source (圏域名 and 年度 for the 確定版, municipality names for the input files
and their drafts, the master's name for next year's) goes through core.filenames; the
command line uses the same functions as the buttons. Writes made while a confinement is
set (the server sets one per request) land inside it or nowhere: absolute, UNC, drive and
symlinked targets are refused at the one write point (renkei_xl.safety)."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest

from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c
from renkei_xl.core.errors import UserError
from renkei_xl.core.filenames import is_reserved, name_problem, safe_file_name
from renkei_xl.core.model import Settings
from renkei_xl.core.rollover import next_folder, next_name
from renkei_xl.cycle.distribute import eml_path, file_name
from renkei_xl.cycle.export import default_name
from renkei_xl.safety import OutsideFolder, confined, safe_write

HOSTILE = ["../../../../X/pwn", "a/b", "a\\b", "C:\\Windows\\x", "\\\\server\\share\\x", "CON", "nul",
           "com1.txt", "LPT9 ", "..", ".", "...hidden", "x. . ", 'a<b>c:"d"|e?f*g', "tab\there\nnew\r\x00",
           "", "   ", "長い名前" * 60, "\u2028\u202e逆向き"]
UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def _is_safe(name: str, limit: int = 120) -> bool:
    stem = name.split(".")[0]
    return (bool(name) and not UNSAFE.search(name) and ".." not in name and not name.startswith(".")
            and name == name.rstrip(" .") and not is_reserved(name) and stem.upper() not in ("CON", "NUL")
            and len(name.encode("utf-8")) <= limit
            and all(ch.isprintable() or unicodedata.category(ch) == "Zs" for ch in name))


# Microsoft's list of names no file may have ("Naming Files, Paths, and Namespaces"), written
# out here rather than taken from the rule under test; the console's two as well.
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", *(f"{dev}{n}" for dev in ("COM", "LPT")
                                                                      for n in "0123456789¹²³")}


@pytest.mark.parametrize("text", ["COM0", "lpt0.txt", "Com¹", "LPT³ ", "conout$", "nul.tar.gz"])
def test_every_name_windows_reserves_is_made_another_and_refused_as_a_book(text):
    for name in (safe_file_name(text, ".xlsx"), safe_file_name(text, ".xlsx", folder="\\\\fs\\renkei\\2023年度")):
        assert name.split(".")[0].rstrip(" ").upper() not in WINDOWS_RESERVED, name
    assert "予約名" in name_problem(text.split(".")[0] + ".xlsm", max_bytes=200)


@pytest.mark.parametrize("text", HOSTILE)
def test_every_hostile_text_makes_one_safe_name(text):
    name = safe_file_name(text, ".xlsx")
    assert name.endswith(".xlsx") and _is_safe(name), name
    assert Path(name).name == name and Path(name).parent == Path(".")


def test_a_name_cut_short_stays_unique_and_a_short_one_stays_as_it_is():
    a, b = safe_file_name("札幌" * 100 + "A", ".xlsx"), safe_file_name("札幌" * 100 + "B", ".xlsx")
    assert a != b and len(a.encode("utf-8")) <= 120 and len(b.encode("utf-8")) <= 120
    assert safe_file_name("さっぽろ圏_2023年度_連携事業実施状況等一覧", ".xlsx") == "さっぽろ圏_2023年度_連携事業実施状況等一覧.xlsx"
    assert safe_file_name("x" * 200, ".xlsx", max_bytes=40) == safe_file_name("x" * 200, ".xlsx", max_bytes=40)


@pytest.mark.parametrize("text", HOSTILE)
def test_each_name_source_goes_through_the_rule(text):
    settings = Settings(text, 2023, None, 0.0, ())
    made = [default_name(settings), file_name(text, 2023)]
    for name in made:
        assert _is_safe(name), (text, name)
    # next year's master may be as long as this year's (the file system's 255 bytes)
    assert _is_safe(next_name(text + "_2023年度.xlsm", 2023, 2024), limit=255)
    # the draft is its file's name and 「依頼」: 5 bytes more than an .xlsx may take
    assert _is_safe(eml_path(Path("配布用") / file_name(text, 2023)).name, limit=125)


@pytest.mark.parametrize("municipality", ["あ" * 31, "𠀋" * 31, "あ" * 30 + "い", "CON", ""])
def test_a_long_municipalitys_names_keep_the_tools_words(municipality):
    """A 31-character municipality (Excel's longest sheet name) got the draft
    「…_2023年度__1a2b3c4d.eml」: a 120-byte cut took 「入力依頼」 away. The tool's words
    stay whole in every name made of content; only the content is cut, between characters,
    and a cut name carries a hash, so two names that share their beginning stay two."""
    book = file_name(municipality, 2023)
    draft = eml_path(Path("配布用") / book).name
    assert book.endswith("_2023年度_入力.xlsx") and draft == book[:-len(".xlsx")] + "依頼.eml"
    assert _is_safe(book) and _is_safe(draft, limit=125)
    assert municipality[:20] in book
    region = default_name(Settings(municipality * 2, 2023, None, 0.0, ()))
    assert region.endswith("_2023年度_連携事業実施状況等一覧.xlsx") and _is_safe(region)
    other = file_name(municipality[:-1] + "う", 2023) if municipality else book
    assert (other != book) == bool(municipality)


def test_a_cut_falls_between_characters():
    """Cut at a byte count, a name keeps whole characters and as many as fit; a byte of a
    POSIX name that is not UTF-8 is kept where it was, not dropped."""
    from renkei_xl.core.filenames import shortened

    for text in ("あ" * 60, "a" + "あ" * 60, "ab" + "𠀋" * 40):
        for limit in range(20, 60):
            cut = safe_file_name(text, ".xlsx", max_bytes=limit)
            kept = cut[:-len(".xlsx")].rsplit("_", 1)[0]
            assert len(cut.encode("utf-8")) <= limit and text.startswith(kept), cut
            assert len(kept.encode("utf-8")) > limit - len(".xlsx") - 9 - 4, cut
    raw = "x" * 5 + "\udcff" + "あ" * 50
    cut = shortened(raw, 40)
    assert raw.startswith(cut.rsplit("_", 1)[0]) and "\udcff" in cut and len(os.fsencode(cut)) <= 40


def test_a_chosen_name_is_refused_not_rewritten():
    assert name_problem("さっぽろ圏_2023年度_マスター.xlsm", max_bytes=200) == ""
    for bad in ("CON.xlsm", "a/b.xlsm", "..", ".x.xlsm", "x.xlsm ", "長" * 100 + ".xlsm", "a\nb.xlsm", "a\u202eb.xlsm"):
        assert name_problem(bad, max_bytes=200), bad
    assert "見えない文字" in name_problem("a\x00b.xlsm", max_bytes=200)


def test_a_space_of_any_width_is_kept_in_a_name():
    """U+3000 (「　」) and U+00A0 are spaces to Windows and to staff; isprintable() says no."""
    assert name_problem("さっぽろ圏　マスター\u00a0.xlsm", max_bytes=200) == ""
    assert safe_file_name("さっぽろ　連携中枢都市圏", ".xlsx") == "さっぽろ　連携中枢都市圏.xlsx"


def test_the_next_years_folder_follows_the_year():
    assert next_folder("2023年度", 2023, 2024) == "2024年度"
    assert next_folder("試験/2023年度", 2023, 2024) == "試験/2024年度"
    # R5 is 2023 too: both move on (the folder once kept 「R5_2024」, naming two years)
    assert next_folder("\\\\fs\\renkei\\R5_2023", 2023, 2024) == "\\\\fs\\renkei\\R6_2024"
    assert next_folder("2023年度/共通", 2023, 2024) == "2023年度/共通"    # only the last part
    assert next_folder("共通", 2023, 2024) == "共通"
    assert next_folder("\\\\fs\\renkei\\令和5年度", 2023, 2024) == "\\\\fs\\renkei\\令和6年度"
    assert next_folder("第2期（2019～2023年度）", 2023, 2024) == "第2期（2019～2023年度）"   # a plan's period
    assert next_folder("R05年度", 2023, 2024) == "R06年度"


@pytest.mark.parametrize("name, old, new, expected", [
    ("さっぽろ圏_2023年度_マスター.xlsm", 2023, 2024, "さっぽろ圏_2024年度_マスター.xlsm"),
    ("さっぽろ圏_令和5年度_マスター.xlsm", 2023, 2024, "さっぽろ圏_令和6年度_マスター.xlsm"),
    ("さっぽろ圏_令和５年度_マスター.xlsm", 2023, 2024, "さっぽろ圏_令和６年度_マスター.xlsm"),
    ("さっぽろ圏_R5年度_マスター.xlsm", 2023, 2024, "さっぽろ圏_R6年度_マスター.xlsm"),
    ("さっぽろ圏_Ｒ５_マスター.xlsm", 2023, 2024, "さっぽろ圏_Ｒ６_マスター.xlsm"),
    ("マスター_２０２３年度.xlsm", 2023, 2024, "マスター_２０２４年度.xlsm"),
    ("R5_2023_マスター.xlsm", 2023, 2024, "R6_2024_マスター.xlsm"),
    ("マスター_令和元年度.xlsm", 2019, 2020, "マスター_令和2年度.xlsm"),
    ("マスター_平成31年度.xlsm", 2019, 2020, "マスター_令和2年度.xlsm"),      # the new year's own era
    ("マスター_平成30年度.xlsm", 2018, 2019, "マスター_令和元年度.xlsm"),
    ("マスター_H30.xlsm", 2018, 2019, "マスター_R1.xlsm"),
    ("マスター_令和5年度.xlsm", 2023, 2025, "マスター_令和7年度.xlsm"),          # --year 2025
    ("MASTER5_H5.xlsm", 2023, 2024, "MASTER5_H5_2024年度.xlsm"),            # no 2023 in it: appended
    ("マスター_R05年度.xlsm", 2023, 2024, "マスター_R06年度.xlsm"),            # as wide as written
    ("マスター_Ｒ０１.xlsm", 2019, 2020, "マスター_Ｒ０２.xlsm"),
    # a plan's period is no year to move (named_fiscal_years reads it as one): its year is
    ("計画2022〜2026年度_2022年度.xlsm", 2022, 2023, "計画2022〜2026年度_2023年度.xlsm"),
    ("令和4年度～令和8年度_令和4年度.xlsm", 2022, 2023, "令和4年度～令和8年度_令和5年度.xlsm"),
    ("計画2019〜2023年度.xlsm", 2023, 2024, "計画2019〜2023年度_2024年度.xlsm"),
])
def test_next_name_moves_the_year_in_the_form_staff_wrote_it(name, old, new, expected):
    """「さっぽろ圏_令和5年度_マスター.xlsm」 became 「…_令和5年度_マスター_2024年度.xlsm」: the
    old year in 和暦 or full-width digits stayed and the new one was appended."""
    assert next_name(name, old, new) == expected


# ---------------------------------------------------------- the command line's names

def test_the_command_lines_default_names_are_safe_and_stay_beside_the_master(tmp_path):
    from renkei_xl.core.refs import parse_ref
    from renkei_xl.core.plan_types import CellEdit, WritePlan
    from renkei_xl.workbook.session import write_planned

    folder = tmp_path / "folder"
    master = folder / "マスター_2023年度.xlsx"
    assert cli_main(["init", str(master), "--sample", "fy2023"]) == 0

    def make(fs):
        sheet, ref = fs.state.names[c.N_REGION]
        return WritePlan(cells=[CellEdit(sheet, *parse_ref(ref), "../../X/pwn")]), None

    write_planned(master, make)
    before = {p for p in tmp_path.rglob("*") if not str(p).startswith(str(folder))}
    assert cli_main(["export", str(master)]) == 0
    assert cli_main(["rollover", str(master)]) == 0
    assert cli_main(["rollover", str(master)]) == 2          # exists: the command line names its option
    made = [p.name for p in folder.iterdir() if p.suffix == ".xlsx"]
    assert "_._X_pwn_2023年度_連携事業実施状況等一覧.xlsx" in made and "マスター_2024年度.xlsx" in made
    assert {p for p in tmp_path.rglob("*") if not str(p).startswith(str(folder))} == before


def test_the_command_line_names_force_when_next_years_master_exists(tmp_path, capsys):
    master = tmp_path / "m_2023.xlsx"
    assert cli_main(["init", str(master), "--sample", "fy2023"]) == 0
    # the sample's contacts (…@otaru.example) are said to be placeholders (staff-walk)
    assert "担当部署・メールアドレスは見本の例です" in capsys.readouterr().out
    assert cli_main(["rollover", str(master)]) == 0
    capsys.readouterr()
    assert cli_main(["rollover", str(master)]) == 2
    assert "--force" in capsys.readouterr().err


# ------------------------------------------------------------------ the write point

def _write(target) -> None:
    safe_write(target, lambda tmp: Path(tmp).write_bytes(b"x"), keep_backup=False, lock=False)


@pytest.mark.parametrize("target", ["/tmp/renkei-outside.xlsx", "\\\\server\\share\\x.xlsx", "C:\\x.xlsx",
                                    "C:x.xlsx", "..\\..\\x.xlsx", "../x.xlsx"])
def test_a_confined_write_refuses_absolute_unc_drive_and_climbing_targets(tmp_path, target):
    root = tmp_path / "work" / "2023年度"
    root.mkdir(parents=True)
    before = sorted(tmp_path.rglob("*"))
    with confined(root):
        with pytest.raises(OutsideFolder):
            _write(root / target if not os.path.isabs(target) else Path(target))
    assert sorted(tmp_path.rglob("*")) == before
    assert not Path("/tmp/renkei-outside.xlsx").exists()


def test_a_confined_write_refuses_symlinks_out_and_allows_its_own_folder(tmp_path):
    root, outside = tmp_path / "work", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "確定版").symlink_to(outside, target_is_directory=True)
    (root / "file.xlsx").symlink_to(outside / "file.xlsx")
    with confined(root):
        for target in (root / "確定版" / "x.xlsx", root / "file.xlsx"):
            with pytest.raises(OutsideFolder):
                _write(target)
        _write(root / "sub" / "ok.xlsx")
    assert not any(outside.iterdir()) and (root / "sub" / "ok.xlsx").read_bytes() == b"x"
    _write(root / "file.xlsx")      # unconfined (the command line): the user's own link is followed
    assert (outside / "file.xlsx").read_bytes() == b"x"


def test_the_writer_lock_is_confined_too(tmp_path):
    from renkei_xl.safety import writer_lock

    with confined(tmp_path / "a"):
        with pytest.raises(UserError):
            with writer_lock(tmp_path / "b.xlsx"):
                pass
    assert not list(tmp_path.iterdir())


def test_next_years_master_keeps_a_long_name_staff_gave():
    """A 43-character master name came back from rollover as 「…マスターブック（事務局_54cd3baa.xlsm」:
    cut to the 120 bytes of names made of content, though the file system took the name."""
    name = "さっぽろ連携中枢都市圏_連携事業実施状況等_2023年度_マスターブック（事務局用・最終版）.xlsm"
    assert len(name.encode("utf-8")) > 120
    assert next_name(name, 2023, 2024) == name.replace("2023", "2024")
    longest = "あ" * 83 + "_2023.xlsm"
    assert len(next_name(longest, 2023, 2024).encode("utf-8")) <= 255
