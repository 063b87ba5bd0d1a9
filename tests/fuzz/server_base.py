"""What the two in-process server fuzzers share: a master made for the server (its
folder named, its id read), a real VBA client's payload of it, and one click through the
server's ``handle()`` in a bounded child with a fresh work folder per case."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Optional

from fuzzlib import Outcome, in_child

FOLDER = "f"
KEY = "k" * 32
_BUILT: dict = {}   # per run folder: payload, vba and http share one server master


def server_master(tmp: Path) -> dict:
    """The FY2023 master as ``init --server`` writes it; its id and its VBA client's payload.
    Built once per run folder (a copy of the answer: callers add their own keys)."""
    if str(tmp) not in _BUILT:
        _BUILT[str(tmp)] = _server_master(tmp)
    return dict(_BUILT[str(tmp)])


def _server_master(tmp: Path) -> dict:
    from remote_payload import VBA, payload_from_file
    from renkei_xl.cli import main
    from renkei_xl.core.seal import stored_master_id
    from renkei_xl.package.workbook import WorkbookXml
    from renkei_xl.package.zipped import Package
    from fuzzlib import _quiet

    master = tmp / "server" / FOLDER / "マスター.xlsm"
    master.parent.mkdir(parents=True, exist_ok=True)
    if not master.exists():
        _quiet(main, ["init", str(master), "--sample", "fy2023", "--server", "http://127.0.0.1:1", "--server-folder", FOLDER])
    with Package(master) as pkg:
        master_id = stored_master_id(WorkbookXml(pkg))
    return {"master": master, "id": master_id, "payload": payload_from_file(master, client=VBA)}


def case_master(context: dict, folder: Path) -> Path:
    """A copy of the server master in the case's own work folder: each case writes alone."""
    dst = folder / "work" / FOLDER / context["master"].name
    dst.parent.mkdir(parents=True)
    shutil.copyfile(context["master"], dst)
    return dst


def click(context: dict, folder: Path, entry: str, caption: str, body: bytes,
          percents: Optional[str] = None, currency: Optional[str] = None, tabs: Optional[str] = None) -> Outcome:
    """One click of ``entry`` through ``handle()`` in a bounded child; logs in the case folder.
    ``percents``, ``currency``, ``tabs``: X-Renkei-Percents, X-Renkei-Currency and X-Renkei-Tabs
    as sent beside the body (None: not sent)."""
    from renkei_xl.server.app import handle
    from renkei_xl.server.config import ServerConfig

    config = ServerConfig(workdir=folder / "work", key=KEY, share="\\\\srv\\renkei",
                          error_log=folder / "error.log", log=folder / "server.log")
    answer = in_child(partial(handle, percents=percents, currency=currency, tabs=tabs), config, entry, body, True, "", caption,
                      context["id"])
    if isinstance(answer, Outcome):
        answer.label = f"handle({entry})"
        return answer
    status, text, _outcome = answer
    return Outcome(f"handle({entry})", rc=None, output=text if isinstance(text, str) else "", status=status)
