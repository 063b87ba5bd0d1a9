"""Files the tool makes for staff to open in Excel: names and paths Excel itself can open and
save (core.filenames: EXCEL_UNSAFE, EXCEL_PATH_MAX), the same on the command line and the
server.

Excel opens no file whose full path is over 218 characters, refuses [ ] in a name it saves
(links to such a file break), and a # in a name breaks links to it. A name the tool makes
is cut, with a hash, so that the file and its backups fit where they go; a name staff
chose, or a folder too deep for a readable name, is refused before anything is written.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from test_buttons import licensed  # noqa: F401  (the remote engine's licence fixture)
from test_server import (MASTER_NAME, SHARE, _master_id, _master_in, _only_alert, _payload,  # noqa: F401
                         server, serving)
from renkei_xl.cli import main as cli_main
from renkei_xl.core import contract as c
from renkei_xl.core.filenames import HASH_CHARS, safe_file_name
from renkei_xl.core.model import Municipality, Settings
from renkei_xl.core.contract import COLLECT_DIR, EXPORT_DIR, SPLIT_DIR
from conftest import taken
from renkei_xl.safety import backup
from renkei_xl.workbook.build import build_master

EXCEL_REFUSES = re.compile(r"[\[\]#]")
EXCEL_PATH_MAX = 218        # stated here as Microsoft states it, not taken from the code under test
BACKUP_FOLDER_SUFFIX, LONGEST_STAMP = "_バックアップ", "_YYYYMMDD-HHMMSS_001"
LIST_TAIL = "_2023年度_連携事業実施状況等一覧"
INPUT_TAIL = "_2023年度_入力"
# Two names as long as a sheet's may be (31), alike up to their last characters.
LONG_TOWNS = ("石狩振興局管内連携中枢都市圏協議会参加自治体その一町", "石狩振興局管内連携中枢都市圏協議会参加自治体その二町")
LONG_REGION = "さっぽろ連携中枢都市圏および周辺自治体広域連携推進協議会圏域"
# Cut even in the shallow folder a test server allows (its work folder is pytest's).
LONGEST_REGION = LONG_REGION + "（石狩振興局管内の市町村による連携事業の推進に関する協定）"


def _backup_path(folder: str, name: str) -> str:
    """Where safety.backup puts the backups of ``name`` in ``folder``, as staff name it."""
    stem, suffix = os.path.splitext(name)
    sep = "\\" if "\\" in folder else "/"
    return sep.join([folder, stem + BACKUP_FOLDER_SUFFIX, stem + LONGEST_STAMP + suffix])


def _padded(root: Path, chars: int) -> Path:
    """A folder under ``root`` whose absolute path is ``chars`` characters long."""
    room = chars - len(str(root.absolute())) - 1
    assert room > 2, "the test's own folder is too deep already"
    parts, left = [], room
    while left > 0:
        part = "深" * min(left, 60)
        parts.append(part)
        left -= len(part) + 1
    folder = root.joinpath(*parts)
    if len(str(folder)) < chars:    # the last separator counted once too often
        folder = folder.with_name(folder.name + "深" * (chars - len(str(folder))))
    assert len(str(folder.absolute())) == chars
    return folder


def _master(path: Path, region: str = "さっぽろ圏", towns=("小樽#市",), **kw) -> Path:
    settings = Settings(region, 2023, municipalities=(Municipality("札幌市", "中心市"),
                                                      *(Municipality(t) for t in towns)))
    return build_master(path, settings, **kw)


# ------------------------------------------------------------------ the command line

def test_split_and_export_names_carry_no_character_excel_refuses(tmp_path, capsys):
    master = _master(tmp_path / "m.xlsx", region="[さっぽろ]#圏", towns=("小樽#市", "江別市#2"))
    assert cli_main(["split", str(master), "--outdir", str(tmp_path / "配布")]) == 0
    assert cli_main(["export", str(master)]) == 0
    made = [p.name for p in (tmp_path / "配布").iterdir()] + [p.name for p in tmp_path.glob("*一覧.xlsx")]
    assert len(made) == 4 and not any(EXCEL_REFUSES.search(n) for n in made), made
    assert "小樽_市_2023年度_入力.xlsx" in made and "_さっぽろ__圏_2023年度_連携事業実施状況等一覧.xlsx" in made


def test_a_split_into_a_deep_folder_cuts_names_so_excel_opens_them_and_their_backups(tmp_path):
    outdir = _padded(tmp_path, 120)
    master = _master(tmp_path / "m.xlsx", towns=LONG_TOWNS)
    assert cli_main(["split", str(master), "--outdir", str(outdir)]) == 0
    files = sorted(outdir.glob("*.xlsx"))
    names = {p.name for p in files}
    assert "札幌市" + INPUT_TAIL + ".xlsx" in names     # a name that fits is left as it is
    cut = sorted(n for n in names if not n.startswith("札幌市"))
    assert len(cut) == 2 and cut[0] != cut[1]
    for name in cut:    # readable: the town's beginning, a hash for the rest, the tool's words whole
        assert re.fullmatch(r"石狩振興局管内\w*_[0-9a-f]{%d}%s\.xlsx" % (HASH_CHARS, INPUT_TAIL), name), name
    for path in files:
        assert len(_backup_path(str(outdir), path.name)) <= EXCEL_PATH_MAX
        made = backup(path)             # the real backup, where staff would open it
        assert len(str(made.absolute())) <= EXCEL_PATH_MAX, made


def _split_cut(tmp_path):
    """A master of two long towns in a deep folder, split into 配布用 beside it, where split
    cuts their names; 回収 beside it, deep enough that a name must be cut there too."""
    deep = _padded(tmp_path, 110)
    master = _master(deep / "m.xlsx", towns=LONG_TOWNS)
    assert cli_main(["split", str(master), "--outdir", str(deep / SPLIT_DIR)]) == 0
    made = {t: deep / SPLIT_DIR / file_name_in(t, str(deep / SPLIT_DIR)) for t in LONG_TOWNS}
    assert all(p.exists() and not p.name.startswith(t) for t, p in made.items())    # cut, as split made them
    (deep / "回収").mkdir()
    return master, made, deep / "回収"


@pytest.mark.parametrize("sender", [LONG_TOWNS[0], "札幌市"])
def test_collect_knows_a_return_by_the_name_split_cut_and_suggests_a_name_excel_opens(tmp_path, capsys, sender):
    """A town filled in the long-named town's file and sent it back under its own name, as
    split made it. A name split cut was read as naming no municipality, so the file went
    into the other town's sheet with the sender's answers. And the refusal suggested the
    uncut names: a path Excel cannot open in that folder, and a name split never made."""
    two = LONG_TOWNS[1]
    master, made, inbox = _split_cut(tmp_path)
    made["札幌市"] = made[two].with_name(file_name_in("札幌市", str(made[two].parent)))
    misnamed = inbox / made[sender].name
    shutil.copy(made[two], misnamed)
    assert cli_main(["collect", str(master), str(inbox)]) == 1
    out = capsys.readouterr().out
    assert f"・{misnamed.name}: ファイル名は{sender}を指していますが、中身は{two}の" in out, out
    own, rename = file_name_in(sender, str(inbox)), file_name_in(two, str(inbox))
    assert own == made[sender].name and rename == made[two].name       # what split made, not the uncut names
    assert f"自分の市町村のファイル（「{own}」）に入力して" in out and f"ファイル名を「{rename}」に変えて" in out, out
    assert len(_backup_path(str(inbox), rename)) <= EXCEL_PATH_MAX
    misnamed.rename(inbox / rename)      # as the refusal says: then it is taken
    assert cli_main(["collect", str(master), str(inbox)]) == 0, capsys.readouterr()
    assert taken(capsys.readouterr().out).get(rename) == two


def test_the_readme_shows_a_cut_name_as_split_makes_it():
    """The staff's example of a cut name (README's part for staff, now the staff guide) is one
    split makes: that town's beginning and the hash of its whole name (so collect knows it),
    not a made-up one."""
    root = Path(__file__).parent.parent
    manual = "".join((root / name).read_text(encoding="utf-8") for name in ("README.md", "docs/staff-guide.md"))
    town, kept, digest = re.search(r"「(石狩\w+)」が\s*「(石狩\w+?)_([0-9a-f]{8})%s\.xlsx」" % INPUT_TAIL, manual).groups()
    assert town in LONG_TOWNS and town.startswith(kept)
    # A folder that leaves the name its kept beginning and the hash: the path counts the
    # name twice beside the backups' folder and stamp (34 characters with .xlsx).
    room = EXCEL_PATH_MAX - 34 - 2 * (len(kept) + 1 + HASH_CHARS + len(INPUT_TAIL))
    made = file_name_in(town, "C:\\" + "深" * (room - 3))
    assert made == f"{kept}_{digest}{INPUT_TAIL}.xlsx", made


def test_an_unreadable_return_under_a_cut_name_holds_its_own_town_alone(tmp_path, capsys):
    """A broken file under the name split cut for the first town was read as anyone's
    return, so it held every town's returns: the second town's good file was not taken."""
    one, two = LONG_TOWNS
    master, made, inbox = _split_cut(tmp_path)
    (inbox / made[one].name).write_bytes(b"PK\x03\x04 broken")
    shutil.copy(made[two], inbox / made[two].name)
    assert cli_main(["collect", str(master), str(inbox)]) == 1
    out = capsys.readouterr().out
    assert f"・{made[one].name}: " in out and taken(out).get(made[two].name) == two, out


def test_a_split_into_a_folder_too_deep_for_a_readable_name_writes_nothing(tmp_path, capsys):
    outdir = _padded(tmp_path, 170)
    master = _master(tmp_path / "m.xlsx", towns=LONG_TOWNS)
    assert cli_main(["split", str(master), "--outdir", str(outdir)]) == 2
    said = capsys.readouterr().err
    assert "保存先のパスが長すぎます（Excelは218文字まで）" in said and str(outdir) in said, said
    assert "Traceback" not in said and not outdir.exists()


def test_export_cuts_its_default_name_and_refuses_an_output_excel_cannot_open(tmp_path, capsys):
    folder = _padded(tmp_path, 110)
    master = _master(folder / "m.xlsx", region=LONG_REGION)
    assert cli_main(["export", str(master)]) == 0
    [made] = folder.glob("*一覧.xlsx")
    assert made.name.startswith(LONG_REGION[:5]) and made.name.endswith(LIST_TAIL + ".xlsx")
    assert len(_backup_path(str(folder), made.name)) <= EXCEL_PATH_MAX < len(
        _backup_path(str(folder), LONG_REGION + LIST_TAIL + ".xlsx"))
    capsys.readouterr()
    given = folder / ("確定版" * 20 + ".xlsx")
    assert cli_main(["export", str(master), "--output", str(given)]) == 2
    said = capsys.readouterr().err
    assert "保存先のパスが長すぎます（Excelは218文字まで）" in said and given.name in said, said
    assert not given.exists()


def test_rollover_refuses_a_new_master_excel_cannot_open(tmp_path, capsys):
    master = _master(tmp_path / "さっぽろ圏_2023年度_マスター.xlsx")
    target = _padded(tmp_path, 200) / "さっぽろ圏_2024年度_マスター.xlsx"
    assert cli_main(["rollover", str(master), "-o", str(target)]) == 2
    said = capsys.readouterr().err
    assert "保存先のパスが長すぎます（Excelは218文字まで）" in said and target.name in said, said
    assert not target.parent.exists()


# ------------------------------------------------------------------ the server

def _deep_folder(server, share_chars: int) -> str:
    """A folder under the work folder whose share path (as staff open it) is
    ``share_chars`` characters long."""
    rel = share_chars - len(SHARE) - 1
    parts, left = [], rel
    while left > 0:
        part = "深" * min(left, 50)
        parts.append(part)
        left -= len(part) + 1
    folder = "\\".join(parts)
    folder = folder + "深" * (rel - len(folder))
    assert len(SHARE + "\\" + folder) == share_chars
    return folder


def test_the_server_makes_names_excel_can_open_from_a_region_with_brackets_and_hash(server):
    master = _master_in(server, "記号の圏域", **{c.N_REGION: "[さっぽろ]#圏"})
    prompt, mode = _only_alert(server.post("export", _payload(master)))
    assert mode == "info", prompt
    [made] = (master.parent / EXPORT_DIR).iterdir()
    assert made.name == "_さっぽろ__圏" + LIST_TAIL + ".xlsx", made.name


def test_the_server_cuts_names_to_fit_the_share_path_staff_open_them_by(server):
    from renkei_xl.server.place import BELOW_FOLDER, MAX_PATH_CHARS

    # As deep as the server's own path allows: its work folder is pytest's, as long as the
    # temporary folder makes it (longer under xdist), where a real server's is short.
    local_room = MAX_PATH_CHARS - BELOW_FOLDER - len(str(server.workdir)) - 2
    folder = _deep_folder(server, min(100, len(SHARE) + 1 + local_room))
    master = server.workdir / folder.replace("\\", "/") / MASTER_NAME
    master.parent.mkdir(parents=True)
    shutil.copyfile(_master(server.workdir.parent / "長い名前.xlsm", region=LONGEST_REGION, towns=LONG_TOWNS,
                            server=server.url, server_folder=folder), master)
    shown = f"{SHARE}\\{folder}"
    headers = {**server.headers, "X-Renkei-Master": _master_id(master)}
    prompt, mode = _only_alert(server.post("export", _payload(master), headers=headers))
    assert mode == "info", prompt
    [made] = (master.parent / EXPORT_DIR).iterdir()
    # Counted on the share's path, the one Excel opens it by (not the server's own path).
    assert made.name == safe_file_name(LONGEST_REGION, ".xlsx", tail=LIST_TAIL, folder=f"{shown}\\{EXPORT_DIR}")
    assert made.name != LONGEST_REGION + LIST_TAIL + ".xlsx" and made.name.startswith(LONGEST_REGION[:5])
    assert len(_backup_path(f"{shown}\\{EXPORT_DIR}", made.name)) <= EXCEL_PATH_MAX
    prompt, mode = _only_alert(server.post("split", _payload(master), headers=headers))
    assert mode == "info", prompt
    names = sorted(p.name for p in (master.parent / SPLIT_DIR).iterdir())
    assert names == sorted(file_name_in(t, f"{shown}\\{SPLIT_DIR}") for t in ("札幌市", *LONG_TOWNS))
    assert all(len(_backup_path(f"{shown}\\{SPLIT_DIR}", n)) <= EXCEL_PATH_MAX for n in names)
    assert sum(n.startswith("石狩") and INPUT_TAIL in n for n in names) == 2 and len(set(names)) == 3


def file_name_in(town: str, folder: str) -> str:
    from renkei_xl.cycle.distribute import file_name

    return file_name(town, 2023, folder)


def test_a_new_master_named_by_staff_is_refused_where_excel_cannot_open_it(tmp_path, capsys):
    """rollover refused a new master Excel could not open; init and recalc -o, the other two
    ways staff name a new master, wrote one there: a master no one could open in Excel."""
    folder = _padded(tmp_path, 200)
    master = _master(tmp_path / "さっぽろ圏_2023年度_マスター.xlsx")
    for args, target in ((["init"], folder / "さっぽろ圏_2023年度_マスター.xlsx"),
                         (["recalc", str(master), "-o"], folder / "さっぽろ圏_2023年度_再計算.xlsx")):
        assert cli_main([*args, str(target)]) == 2
        said = capsys.readouterr().err
        assert "保存先のパスが長すぎます（Excelは218文字まで）" in said and target.name in said, said
        assert "バックアップ" not in said, said
        assert not target.parent.exists()
    # as deep as Excel allows, both are written
    fits = _padded(tmp_path / "fits", EXCEL_PATH_MAX - len("\\さっぽろ圏_2023年度_再計算.xlsx"))
    for args, target in ((["init"], fits / "さっぽろ圏_2023年度_再計.xlsx"),
                         (["recalc", str(master), "-o"], fits / "さっぽろ圏_2023年度_再計算.xlsx")):
        assert cli_main([*args, str(target)]) == 0, capsys.readouterr().err
        assert target.exists()


def test_the_server_knows_a_return_by_the_name_split_cut_and_suggests_that_name(licensed):  # noqa: F811
    """The collect button read a return under the name split cut for one town as naming no
    one (the file went into the other town's sheet), and its refusal suggested the uncut
    names. Named as split named them in 配布用 (on the share's path), not as the same rule
    would cut them in 回収, whose shorter path leaves one more character. A long share name
    over a short local folder: the share's path is the one Excel counts."""
    import tempfile

    towns = tuple(t + "あいうえお" for t in LONG_TOWNS)       # 31 characters, a sheet name's most
    one, two = towns
    share = r"\\fileserver01\renkei-share\企画政策部\さっぽろ連携中枢都市圏"
    folder = "深" * (99 - len(share) - 1)     # 99: odd, so 配布用 and 回収 cut one character apart
    with tempfile.TemporaryDirectory(prefix="rx-") as root, serving(Path(root), share) as server:
        master = server.workdir / folder / MASTER_NAME
        master.parent.mkdir(parents=True)
        shutil.copyfile(_master(Path(root) / "長い町.xlsm", towns=towns, server=server.url,
                                server_folder=folder), master)
        shown = f"{share}\\{folder}"
        headers = {**server.headers, "X-Renkei-Master": _master_id(master)}
        prompt, mode = _only_alert(server.post("split", _payload(master), headers=headers))
        assert mode == "info", prompt
        made = {t: master.parent / SPLIT_DIR / file_name_in(t, f"{shown}\\{SPLIT_DIR}") for t in towns}
        assert all(p.exists() and not p.name.startswith(t) for t, p in made.items()), made
        inbox = master.parent / COLLECT_DIR
        inbox.mkdir()
        shutil.copy(made[two], inbox / made[one].name)
        prompt, _mode = _only_alert(server.post("collect", _payload(master), headers=headers))
    assert f"ファイル名は{one}を指していますが、中身は{two}の入力用ファイルです" in prompt, prompt
    assert f"（「{made[one].name}」）に入力して" in prompt and f"ファイル名を「{made[two].name}」に変えて" in prompt, prompt
    assert made[two].name != file_name_in(two, f"{shown}\\{COLLECT_DIR}")      # split's, not 回収's cut
    assert len(_backup_path(f"{shown}\\{COLLECT_DIR}", made[two].name)) <= EXCEL_PATH_MAX
