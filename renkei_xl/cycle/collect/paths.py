"""Which files a collect looks at: files as given, folders as the workbooks inside them."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ...core import contract as c
from ...safety import check_regular_file
from .records import Refusal

RETURNED = "回収した入力用ファイル（.xlsx）"


def expand_paths(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> tuple[list[Path], list[Refusal]]:
    """Files as given, folders as the workbooks directly inside them (Excel lock files skipped).
    What is not a readable file (a device, a FIFO, a file without read permission, also
    inside a folder) refuses the whole run (UserError): nothing is read or written."""
    skip = {Path(p).resolve() for p in exclude}
    files: list[Path] = []
    refusals: list[Refusal] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(q for q in p.iterdir()
                            if q.suffix.lower() in c.MASTER_SUFFIXES and not _is_temporary(q))
            for q in inside:   # a FIFO or a device named .xlsx is refused, never opened
                check_regular_file(q, RETURNED)
            files += [q for q in inside if q.resolve() not in skip]
        elif p.exists():
            check_regular_file(p, RETURNED)
            if p.resolve() in skip:
                refusals.append(Refusal(p, "マスターブック自身は取り込めません"))
            elif _is_temporary(p):
                refusals.append(Refusal(p, "Excel の一時ファイル（~$ で始まるファイル）です"))
            else:
                files.append(p)
        else:
            refusals.append(Refusal(p, "ファイルまたはフォルダーが見つかりません"))
    return list(dict.fromkeys(files)), refusals


def _is_temporary(p: Path) -> bool:
    return p.name.startswith(("~$", ".~lock.", ".~renkei-"))
