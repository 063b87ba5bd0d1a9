"""取込履歴: the records of earlier imports, read back, and the rule they enforce (the same
file is not imported twice; an older submission does not overwrite a newer one)."""

from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

from ...clock import local
from ...core import contract as c
from ...core.face import again
from ...core.contract_read import Book, text
from ...core.errors import UserError
from .records import cell_at as _at, ALREADY, LOG_COLUMNS, ImportRecord, Refused, Submission


# The columns of 取込履歴 its rules read (LOG_COLUMNS' positions): ファイル名 (whose municipality
# refuse_misnamed holds 市町村 to, and the name an older-submission refusal quotes), 市町村,
# 取込日時, 変更セル数 (first_since_issue passes over an import that changed nothing), SHA-256 and
# 提出日時. An error value there is no record to pass over (check_import_log, since_issue): in
# ファイル名 it was read as a file of no municipality, and 「札幌市」 typed over 小樽市's record
# passed, the newer return held as a correction staff made; an older return was refused as
# older than 「取り込み済みの「#N/A」」; in 変更セル数 it was read as some cells changed. And
# 取込時のマスターの値 (WAS_COLUMN), which tells export and rollover the held cells still
# outstanding (core.held): an error there was read as no held cell, and nothing was warned of.
RULE_COLUMNS = ("0", "1", "2", "3", "4", "5", "7")
MUNICIPALITY_COLUMN = "1"
WAS_AT_IMPORT = "7"     # 取込時のマスターの値: what export's and rollover's held-cell warning reads
# The columns every version of the tool wrote 取込履歴 with, in this order, from its first
# (535b439: ファイル名 … 提出日時); 取り込まなかったセル (HELD_COLUMN) came later (df1f77f),
# and 取込時のマスターの値 (WAS_COLUMN) later still are the only headers an older log may never
# have had (the writer adds them after the last used column). So a log lacking one of these
# was typed over, not written by an older version.
EVERY_VERSION = ("0", "1", "2", "3", "4", "5")
# What a reader of 市町村 alone (the 確定版's note) needs to tell the log at all, as before.
IDENTIFYING = ("0", "1", "4")


def read_import_log(grid: Sequence[Sequence[object]], read: Sequence[str] = RULE_COLUMNS) -> list[ImportRecord]:
    """取込履歴 rows (a grid from A1) as records; an empty or foreign sheet gives none.

    An error value (or a TRUE/FALSE) in a column ``read`` (the caller's: collect's rules
    read RULE_COLUMNS, the 確定版's note only 市町村), or over a header, is named and refused
    (core.history.refuse_unread, as 経年 is): read as no time, no hash, no municipality or no
    log at all, it let an older submission overwrite the newer one imported before it, on
    both faces, without a word (qa-98)."""
    from ...core.contract_read import HeaderError
    from ...core.history import refuse_unread
    from ...core.refs import cell_ref
    from ...core.values import unread_value

    if not grid:
        return []
    fields = {str(i): h for i, h in enumerate(LOG_COLUMNS)}
    book = Book({c.IMPORT_LOG: grid}, {})
    # The rules ordering submissions by time read the log whole: every header every version
    # wrote (a 提出日時 typed over read as no time, and an older return overwrote the newer).
    required = EVERY_VERSION if set(read) - {MUNICIPALITY_COLUMN, WAS_AT_IMPORT} else IDENTIFYING
    try:
        header_row, cols = book.header(c.IMPORT_LOG, fields, required)
    except HeaderError:
        if not _broken_header_row(grid):
            return []         # no 取込履歴 header row at all: a sheet of staff's own, no log
        _refuse_typed_over(grid, [fields[f] for f in required])
        raise
    if required == EVERY_VERSION:
        _refuse_moved(grid, header_row, cols)
    rule_cols = [cols[f] for f in read if f in cols]
    refuse_unread([(f"{c.IMPORT_LOG}!{cell_ref(r, col)}", held)
                   for r, row in enumerate(grid[header_row:], start=header_row + 1)
                   for col in rule_cols if (held := unread_value(_at(row, col)))], c.IMPORT_LOG)
    _refuse_untimed([(f"{c.IMPORT_LOG}!{cell_ref(r, cols[f])}", LOG_COLUMNS[int(f)], value)
                     for r, row in enumerate(grid[header_row:], start=header_row + 1)
                     for f in TIME_COLUMNS if f in read and f in cols
                     if not _blank(value := _at(row, cols[f])) and as_datetime(value) is None])
    out = []
    for _r, _v, _cells in book.rows(c.IMPORT_LOG, header_row, cols):
        row = grid[_r - 1]
        get = lambda i: _at(row, cols[str(i)]) if str(i) in cols else None  # noqa: E731
        out.append(ImportRecord(text(get(0)), text(get(1)), as_datetime(get(2)),
                                _as_int(get(3)), text(get(4)).lower(), as_datetime(get(5)), text(get(6)), text(get(7)),
                                _cells))
    return out


# The columns of 取込履歴 that hold times: 取込日時 and 提出日時.
TIME_COLUMNS = ("2", "5")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _refuse_untimed(cells: list[tuple[str, str, object]]) -> None:
    """Refuses 取込履歴 naming the time cells (place, header, value) that hold something no
    time: a number (the column's format set to 標準, so 2024/4/10 10:00 reads 45392.41…) or a
    word. Read as no time, the record was passed over by the older-submission rule, and an
    older return overwrote the newer one imported before it, on both faces, without a word."""
    if not cells:
        return
    from ...core.values import shown

    # each value as the reader reads the cell (text: 「45382」), on both faces: Python's float
    # said 「45382.0」 on the command line where the button said 「45382」 (qa-132)
    from ...core.values import listed

    places = listed((f"{where}（{header}「{shown(text(value))}」）" for where, header, value in cells), "か所")
    raise UserError(f"シート「{c.IMPORT_LOG}」の {places} は日時として読めません。セルの表示形式を日時"
                    f"（yyyy/m/d h:mm:ss）に戻すか、正しい日時を入力し直してから、もう一度{again()}ください"
                    "（日時の読めない記録では、古い提出で新しい提出を上書きしないための確認ができません）。")


def _refuse_typed_over(grid: Sequence[Sequence[object]], needed: Sequence[str]) -> None:
    """Refuses the header row of 取込履歴 whose needed headers are typed over (none of its
    cells an error value, which Book.header names in its cell), naming the row and what it
    lacks: Book.header's 「20行目までに見出し行が必要です」 said that the row was missing."""
    from ...core.values import unread_value

    headers = set(LOG_COLUMNS)
    for r, row in enumerate(grid[:c.HEADER_SEARCH_ROWS], start=1):
        if len(headers.intersection(text(v) for v in row)) >= 2 and not any(unread_value(v) for v in row):
            lacking = [h for h in needed if h not in {text(v) for v in row}]
            where = "".join(_typed_over_cell(grid, r, h) for h in lacking)
            raise UserError(f"シート「{c.IMPORT_LOG}」の見出しの行（{r} 行目）に「{'」「'.join(lacking)}」がありません"
                            f"（{where}見出しが書き換えられています。どの版のツールも、この見出しを書いています）。"
                            f"見出しを元に戻してから、もう一度{again()}ください（見出しがないと、これまでの取り込みの"
                            "記録を読めず、同じファイルや古い提出を取り込んでしまいます）")


def _typed_over_cell(grid: Sequence[Sequence[object]], r: int, header: str) -> str:
    """Where ``header`` would stand in row ``r``, said as 「F1 は「提出日」で、」 (the place
    contract_read.typed_over_place finds: every version wrote the six side by side); ""
    when it cannot be told."""
    from ...core.contract_read import typed_over_place
    from ...core.refs import cell_ref
    from ...core.values import shown

    row = grid[r - 1]
    found = {text(v): col for col, v in reversed(list(enumerate(row, start=1))) if text(v) in LOG_COLUMNS}
    place = typed_over_place(grid, r, LOG_COLUMNS[:len(EVERY_VERSION)], found, header, set(LOG_COLUMNS).__contains__)
    if place is None:
        return ""
    held = text(row[place - 1]) if place <= len(row) else ""     # as the reader reads it: 45382, not 45382.0
    return f"{cell_ref(r, place)} は{'空欄' if held == '' else f'「{shown(held)}」'}で、"


def _refuse_moved(grid: Sequence[Sequence[object]], header_row: int, cols: dict[str, int]) -> None:
    """Refuses 取込履歴 where a header of ours stands away from its place and something else
    was typed there (typed_over_place, as if it were missing): 「提出日」 typed over F1 and
    「提出日時」 added again after 「取り込まなかったセル」 (H1) by a version before qa-131, the
    times of the imports before left under F. Read at H, those records had no time, and an
    older return overwrote the newer one. Columns staff move whole (the log reversed) keep
    no foreign text between a header's neighbours and read as before."""
    from ...core.contract_read import typed_over_place
    from ...core.refs import cell_ref
    from ...core.values import shown

    found = {LOG_COLUMNS[int(f)]: col for f, col in cols.items()}
    for header, col in found.items():
        if header == LOG_COLUMNS[0] or header not in LOG_COLUMNS[:len(EVERY_VERSION)]:
            # one neighbour, or a column added later (after the last used one, so beside any
            # column staff had added): a column staff inserted beside it would look the same
            continue
        others = {h: k for h, k in found.items() if h != header}
        place = typed_over_place(grid, header_row, LOG_COLUMNS, others, header, set(LOG_COLUMNS).__contains__)
        if place is not None and place != col:
            held = text(grid[header_row - 1][place - 1]) if place <= len(grid[header_row - 1]) else ""
            raise UserError(f"シート「{c.IMPORT_LOG}」の見出し「{header}」が {cell_ref(header_row, col)} にあり、その見出しの"
                            f"あるはずのセル {cell_ref(header_row, place)} は{f'「{shown(held)}」' if held else '空欄'}です"
                            "（見出しが書き換えられ、同じ見出しが別の列に付け足されています）。"
                            f"{cell_ref(header_row, place)} の列がその見出しの記録なら、見出しを「{header}」に戻して"
                            f"{cell_ref(header_row, col)} の列の記録をその列に移してから、もう一度{again()}ください（見出しの列が違うと、"
                            "これまでの取り込みの記録を読み違え、古い提出を取り込んでしまいます）")


def _broken_header_row(grid: Sequence[Sequence[object]]) -> bool:
    """Whether a row near the top holds a header of 取込履歴 beside an error value (or a
    TRUE/FALSE), or two of its headers (the others typed over: 「SHA-256」 retyped 「ハッシュ」):
    the header row with one of its headers broken, which Book.header names. Read as no log,
    every import before was forgotten (the same file taken twice, an older submission over a
    newer one); a header typed over was, until qa-128, while the writer added the column
    again beside it."""
    from ...core.values import unread_value

    headers = set(LOG_COLUMNS)
    return any((any(unread_value(v) for v in row) and any(text(v) in headers for v in row))
               or len(headers.intersection(text(v) for v in row)) >= 2
               for row in grid[:c.HEADER_SEARCH_ROWS])


def as_datetime(value: object) -> Optional[dt.datetime]:
    """A time of the log, or a returned file's RenkeiIssued, as the naive local time the
    tool writes (a time typed with a zone is the same instant; compared aware against naive
    it would raise); None for anything else."""
    when = None
    if isinstance(value, dt.datetime):
        when = value.replace(microsecond=0)
    elif isinstance(value, dt.date):
        # a time at 00:00:00 to the second: both readers give a date-time cell at midnight as
        # its date (calamine, excel.book.as_file_reads), and it was no time at all, so the
        # older-submission rule passed that record over
        when = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and value.strip():
        try:
            when = dt.datetime.fromisoformat(value.strip().replace("/", "-"))
        except ValueError:
            return None
    return local(when) if when is not None else None


def _as_int(value: object) -> Optional[int]:
    """A count as the log holds it; None for what is no count (blank, a word), which no rule
    may read as 0 (since_issue.first_since_issue passes over an import that changed no cell).
    「inf」 「1e400」 (which float() reads as infinity) raised OverflowError out of int(), and
    collect stopped with 「予期しないエラー」 on a word staff typed into their log; a fraction
    is no count either (int() made 0.4 a 0)."""
    try:
        number = float(text(value))
    except ValueError:
        return None
    return int(number) if number.is_integer() else None     # 0.4 is no count of 0


def refuse_misnamed(records: Sequence[ImportRecord], names: Sequence[str]) -> None:
    """Refuses 取込履歴 naming the 市町村 cell of a record read back that is blank, holds a
    character that shows as nothing, or is a name 設定 lists typed another way (width,
    spaces: contract_read.name_key), or a name 設定 does not list on the import of a file
    whose name names one it does (「おたる」 on 「小樽市_2023年度_入力.xlsx」), or another name 設定
    lists on such a file (「札幌市」 on it: qa-136, README 「ファイル名が設定の別の市町村のもの」). Read as no
    municipality of 設定, 小樽市's record was no import of 小樽市: its older return passed the older-submission rule, and the since-issue
    check took the newer import for a correction staff made, holding the row as 「配布した後で
    マスターの実績値が…に直され」, on both faces (qa-133). A name 設定 does not list on a file of
    no listed name is a partner that left the partnership, whose records stay: read as before."""
    from ...core.contract_read import name_key
    from ...core.filenames import named_in
    from ...core.values import shown, unseen_char, unseen_kind

    listed = set(names)
    keys = {name_key(n): n for n in names}
    for r in records:
        where = r.place(1)
        if not where:
            continue
        name = r.municipality
        mend = "設定の市町村名のとおりに"
        if name in listed:
            # collect never logs a file whose name names only other municipalities of 設定
            # (inspect._check_named refuses it): 「札幌市」 typed over 小樽市's record is the
            # same harm as 「おたる」, and the README says it stops (qa-136)
            if len(owners := named_in(r.file_name, names)) != 1 or name in owners:
                continue
            owner = next(iter(owners))
            why = f"「{name}」は、ファイル名（{r.place(0) or r.file_name}）の「{owner}」とは別の市町村です"
            mend = f"ファイル名のとおり「{owner}」に"
        elif name == "":
            why = "が空欄です（どの市町村の取り込みか分かりません）"
        elif (bad := unseen_char(name)) is not None:
            seen = "".join(ch for ch in name if ch != bad and ch.isprintable())
            read_as = (f"設定の「{keys[name_key(seen)]}」とは別の名前として読まれます" if name_key(seen) in keys
                       else "設定の市町村一覧にない名前です")
            why = f"「{shown(seen)}」の{name.index(bad) + 1}文字目に{unseen_kind(bad)} U+{ord(bad):04X} が入っています（{read_as}）"
        elif name_key(name) in keys:
            why = f"「{shown(name)}」は、設定の「{keys[name_key(name)]}」と全角・半角やスペースだけが違います"
        elif len(owners := named_in(r.file_name, names)) == 1:
            # typed over (「おたる」) where the file name says whose the import was; a partner
            # that left has its own name in both, and is read as before
            why = (f"「{shown(name)}」は設定の市町村一覧にありませんが、ファイル名（{r.place(0) or r.file_name}）は"
                   f"「{next(iter(owners))}」のファイルです")
        else:
            continue
        raise UserError(f"シート「{c.IMPORT_LOG}」の {where} の市町村{why}。{mend}直してから、もう一度"
                        f"{again()}ください（市町村の読めない記録では、同じ市町村の古い提出で新しい提出を上書きしないための"
                        "確認ができません）")


def check_import_log(sub: Submission, known: Sequence[ImportRecord], force: bool) -> None:
    if any(r.sha256 == sub.sha256 for r in known):
        raise Refused("同じファイルをすでに取り込んでいます（変更はありません）", ALREADY)
    if force or sub.modified is None:
        return
    mine = [r for r in known if r.municipality == sub.municipality]
    newer = [r for r in mine if r.submitted_at and r.submitted_at > sub.modified]
    if newer:
        latest = max(newer, key=lambda r: r.submitted_at)
        raise Refused(f"{sub.municipality}の提出（保存日時 {_when(sub.modified)}）は、取り込み済みの"
                       f"「{latest.file_name}」（保存日時 {_when(latest.submitted_at)}）より古いファイルです"
                       f"。{OLDER_REMEDY}")
    # A record without 提出日時 (a file imported without a save time, which collect logs so,
    # or the cell cleared or 「=""」): that submission was made before its 取込日時, so a file
    # saved after it is newer; one saved before may be older and is not taken over it. It was
    # passed over, and 小樽市's older return imported over the newer one (qa-133).
    # Saved in the very second of that import (save times are whole seconds) is not before it:
    # a correction saved at once after an import read as older (test_return_save_time).
    untimed = [r for r in mine if r.submitted_at is None and (r.imported_at is None or sub.modified < r.imported_at)]
    if untimed:
        r = untimed[-1]
        where = f"シート「{c.IMPORT_LOG}」の {r.place(5)} " if r.place(5) else ""
        imported = f"、取込日時 {_when(r.imported_at)}" if r.imported_at else ""
        raise Refused(f"{sub.municipality}の提出（保存日時 {_when(sub.modified)}）が、取り込み済みの「{r.file_name}」"
                      f"（{where}提出日時が空欄{imported}）より新しいか決められません（提出日時の空欄は、保存日時のない"
                      "ファイルを取り込んだか、セルが消されたときです）。このファイルが新しい提出なら、Excel で開いて上書き"
                      "保存してから（保存日時が今になります）もう一度取り込んでください（コマンドラインでは --force を付けても"
                      "取り込めます）")


# Said on both faces: a button has no --force, and a file saved again is the newest submission
# (its save time is the one collect orders by), so that way works wherever the refusal is read.
OLDER_REMEDY = ("この古い提出で上書きする場合は、このファイルを Excel で開いて上書き保存してから（保存日時が今になります）"
                "もう一度取り込んでください（コマンドラインでは --force を付けても取り込めます）")


def _when(value: Optional[dt.datetime]) -> str:
    return value.strftime("%Y/%m/%d %H:%M:%S") if value else "不明"
