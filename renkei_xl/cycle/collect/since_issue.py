"""What a municipality changed in its file since split issued it, against what staff
changed in the master meanwhile.

A return carries every input cell of the municipality's sheet, and collect used to write
each one that differed from the master. A value staff corrected in the master after the
split (a number phoned in, a typo fixed) was then put back by a row the municipality
never touched. Each file issued now keeps its input cells as issued, as text, in hidden
locked columns (core.contract.ISSUED_HEADERS), so for each cell:

- returned as issued: the municipality did not change it, and the master's value stands;
  where staff changed it after the split, a warning says the correction was kept;
- changed in the file, and the master still as issued (or already equal to the file):
  imported, as before;
- changed on both sides, to different values: neither is taken; the row is held, as a
  row with a bad cell is, and the finding names both values;
- an error value in the master's cell (a formula broken since) is no correction: the
  returned value is imported over it, as before, and listed as a change.

This holds for the first import of a file since it was issued that changed a master cell.
After one, the master's cells differ from the issued ones by that import too, which nothing here can tell from
staff's own edits, so a second return of the same issue (a corrected resubmission, or an
older file forced in) imports every difference, as a file issued before these columns
existed always does.

The issued values are sealed with the rest of the identifier (core.seal, version 2 on): a
return whose hidden columns were edited, after lifting the sheet's protection (it has no
password), is refused as doctored. Unsealed, such an edit made the municipality's own
answer look untouched, so it was dropped and the report said staff had corrected the
master after the split, which they had not. A file issued before (version 1) carries no
such seal and is still read as before.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping, Optional, Sequence

from ...core import contract as c, findings as F
from ...core.contract_read import text
from ...core.model import Entry, Finding
from ...core.values import shown, unread_value
from .records import ImportRecord, Submission


# How far ahead of the clock a file's issue time may lie and still be taken as the moment its
# import is logged at (logged_at): a server's clock stepped back (NTP correcting one that ran
# ahead) by minutes or hours. Further ahead, the issuing PC's clock was wrong, not this one.
STEP_BACK = dt.timedelta(days=1)


def logged_at(sub: Submission, stamp: dt.datetime) -> dt.datetime:
    """The 取込日時 the import of ``sub`` is logged with: the clock's ``stamp``, but never
    before the file's issue time, which this clock gave it (split). The clock stepped back
    between the split and the import (NTP) logged the import before the issue, and
    first_since_issue, which orders the two by these times, took the municipality's next
    return of the same issue for its first: its corrected cells were held as changed on
    both sides, 「配布した後でマスターの実績値が…に直され」, the master's value being that
    first import, not staff's correction. No import can precede the issue of the file it
    takes. An issue time more than STEP_BACK ahead is no step of this clock: the clock's."""
    issued = sub.issued_at
    if issued is None or issued <= stamp or issued > stamp + STEP_BACK:
        return stamp
    return issued


def issued_after_imports(issued: dt.datetime, import_log: Optional[Sequence[Sequence[object]]]) -> dt.datetime:
    """The issue time a split stamps: the clock's ``issued``, but after every import the
    master's 取込履歴 (``import_log``, its grid) logs within STEP_BACK ahead of it, the
    same clock's times. The clock stepped back after an import (NTP) stamped the next
    issue before that import, and first_since_issue took the import of the old issue for
    one since the new: the new file's first return was read as a resubmission, every cell
    differing from the master imported, a correction staff made after the new split
    overwritten by the value the municipality returned as issued. A log that cannot be
    read leaves the clock's time (collect says why when it reads it)."""
    from ...core.errors import UserError
    from .import_log import read_import_log

    try:
        logged = [r.imported_at for r in read_import_log(import_log or [])]
    except UserError:
        return issued
    ahead = [t for t in logged if t is not None and issued <= t <= issued + STEP_BACK]
    return max(ahead) + dt.timedelta(seconds=1) if ahead else issued


def first_since_issue(sub: Submission, logged: Sequence[ImportRecord]) -> bool:
    """No import of this municipality that changed a master cell is logged since the file was
    issued (a logged import without a readable time or count counts as one: then nothing is
    assumed). An import logged with 変更セル数 0 (the file as issued, collected from 配布用 by
    mistake or returned blank before the answers came) left the master as staff had it, so its
    differences from the issued values are still staff's own: counted, it made the real return
    a resubmission, and every cell differing from the master came in, a correction staff made
    after the split overwritten by the value the municipality returned as issued."""
    if sub.issued_at is None:
        return False
    return not any(r.municipality == sub.municipality and r.changed_cells != 0
                   and (r.imported_at is None or r.imported_at >= sub.issued_at)
                   for r in logged)


def changed_since_issue(sub: Submission, master: Mapping[str, Entry], current: Mapping[tuple[str, str], str]
                        ) -> tuple[dict[str, dict[str, object]], list[Finding], list[Finding]]:
    """(the cells to import, by 指標ID and field; the cells changed on both sides, as
    errors, whose rows are left out; the master cells kept, as warnings).

    ``master``: the municipality's entries by 指標ID; ``current``: (municipality, master
    cell) → text where an earlier file of this run already wrote it."""
    values: dict[str, dict[str, object]] = {}
    conflicts: list[Finding] = []
    kept: list[Finding] = []
    for ind_id, fields in sub.values.items():
        was, entry = sub.issued.get(ind_id, {}), master[ind_id]
        row_conflicts = []
        wanted = {}
        for field, new in fields.items():
            issued = was.get(field)
            now = current.get((sub.municipality, entry.cell(field)), getattr(entry, field))
            said = _said(issued), _said(now), _said(text(new))
            if issued is None or unread_value(now) is not None:
                wanted[field] = new      # an error value (or a TRUE/FALSE) in the master is no correction to keep
            elif text(new) == issued:
                if now != issued:
                    kept.append(F.KEPT_CORRECTION.at(entry.sheet, entry.cell(field), ind_id,
                                                     label=c.ENTRY_HEADERS[field], issued=said[0], master=said[1]))
            elif now in (issued, text(new)):
                wanted[field] = new
            else:
                row_conflicts.append(F.CHANGED_ON_BOTH_SIDES.at(
                    sub.municipality, sub.cells.get(ind_id, {}).get(field, ""), ind_id,
                    label=c.ENTRY_HEADERS[field], issued=said[0], master=said[1], returned=said[2]))
        if row_conflicts:
            conflicts += row_conflicts
        else:
            values[ind_id] = wanted
    return values, conflicts, kept


def _said(value: Optional[str]) -> str:
    return f"「{shown(value)}」" if value else "空欄"
