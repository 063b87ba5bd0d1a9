"""Operations on a master workbook file: load, validate, recalculate, write back safely.

Every write follows SPEC §5: refuse while Excel holds the file (lock file), look for parts
openpyxl would drop before writing anything, keep a timestamped backup, write a
temporary file and rename it over the target. When the master holds parts openpyxl
cannot carry, the results go to a new file beside it and the master stays as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .. import contract as c
from ..errors import UserError
from ..layout import status_line
from ..model import Result
from ..contract_read import MasterData
from .read import read_master
from .losses import carry_report, droppable_parts
from .safety import atomic_write, backup, ensure_not_open

SUFFIXES = (".xlsx", ".xlsm")
# Readings (furigana) that Japanese IMEs store with typed text: openpyxl drops them, and
# losing them changes nothing staff see or print, so they do not force a separate file.
HARMLESS_RISKS = {"phonetic"}


@dataclass
class Written:
    path: Path
    backup: Optional[Path] = None
    redirected: bool = False                 # results went to a new file, not the master
    notes: list[str] = field(default_factory=list)


def check_path(path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise UserError(f"「{path.name}」は .xlsx または .xlsm のブックではありません")
    if not path.exists():
        raise UserError(f"ファイル「{path}」が見つかりません")
    return path


def open_workbook(path: Path):
    """openpyxl workbook (formulas kept) and a loader of its cached-values twin."""
    import zipfile
    from functools import lru_cache

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", rich_text=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UserError(f"「{path.name}」をブックとして開けません（壊れているか、Excel のファイルではありません: {exc}）")

    @lru_cache(maxsize=1)
    def cached():
        return load_workbook(path, data_only=True)

    return wb, cached


def load_master(path: Path) -> MasterData:
    path = check_path(path)
    wb, cached = open_workbook(path)
    return read_master(wb, cached)


def _target(path: Path, out: Optional[Path]) -> tuple[Path, list]:
    risks = [r for r in droppable_parts(path, owned_sheets=c.OWNED_OUTPUT_SHEETS)
             if r.kind not in HARMLESS_RISKS]
    return (Path(out) if out else path), risks


def save_safely(wb, path: Path, out: Optional[Path]) -> Written:
    """Write ``wb`` (loaded from ``path``) to ``out`` or back to ``path``, per SPEC §5."""
    target, risks = _target(path, out)
    notes: list[str] = []
    redirected = False
    if risks and target.resolve() == path.resolve():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = path.with_name(f"{path.stem}_結果_{stamp}{path.suffix}")
        redirected = True
        notes.append(f"このブックには openpyxl で保持できない部分があるため、マスターは変更せず、"
                     f"結果を別のファイル「{target.name}」に書き出しました。保持できない部分:")
        notes.append(carry_report(risks))
        notes.append("Excel のボタン（評価を再計算）から実行すると、Excel 自身が書き込むのですべて保持されます。")
    if target.suffix.lower() == ".xlsx" and path.suffix.lower() == ".xlsm":
        raise UserError("マクロ付きブック（.xlsm）の結果を .xlsx に書き出すとマクロが失われます。"
                        "出力先も .xlsm にしてください（配布用は renkei-xl export を使ってください）")
    ensure_not_open(target)
    saved_backup = backup(target) if target.exists() else None
    atomic_write(target, lambda tmp: wb.save(tmp))
    return Written(target, saved_backup, redirected, notes)


def validate_file(path: Path, *, write: bool = True):
    """入力チェック: findings written to 検証結果 and marked in the sheets."""
    from ..pipeline import recalculate
    from .write import write_findings, write_menu_status

    path = check_path(path)
    ensure_not_open(path)
    wb, cached = open_workbook(path)
    data = read_master(wb, cached)
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    written = None
    if write:
        write_findings(wb, result.findings)
        write_menu_status(wb, status_line("入力チェック", result))
        written = save_safely(wb, path, None)
    return result, written


def recalc_file(path: Path, out: Optional[Path] = None) -> tuple[Result, Written]:
    """評価を再計算: validate, consolidate, evaluate, write 一覧/集計/検証結果 and メニュー."""
    from ..pipeline import recalculate
    from .write import write_findings, write_list, write_menu_status, write_summary

    path = check_path(path)
    ensure_not_open(path)
    wb, cached = open_workbook(path)
    data = read_master(wb, cached)
    result = recalculate(data.settings, data.indicators, data.entries, data.findings)
    write_list(wb, result, data.settings)
    write_summary(wb, result, data.settings)
    write_findings(wb, result.findings)
    write_menu_status(wb, status_line("評価を再計算", result))
    return result, save_safely(wb, path, out)

