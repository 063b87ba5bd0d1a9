"""The same split of the same master writes the same files, however many ran before it in
the process.

A server worker runs click after click in one process. XlsxWriter kept the options dict the
tool shared between workbooks and added its theme font to it, so the first workbook a
process made had another Normal font (no ``<scheme val="minor"/>``) than every later one:
the second 配布用ファイル作成 on a worker found 札幌市's file (the first it wrote) changed,
backed it up, and the log said written=14 where the click before said 12 (qa-102 saw
12/13/14 for eight identical clicks on two workers). Run in a fresh interpreter: in the test
process other tests have made workbooks already.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from renkei_xl.cli.workbook import init_master

_TWO_SPLITS = """
import json, sys
from pathlib import Path
from renkei_xl.cycle.distribute import split_master
master, out = Path(sys.argv[1]), Path(sys.argv[2])
first = split_master(master, out)
second = split_master(master, out)
print(json.dumps({"files": [str(p) for p in first], "backups": [str(p) for p in second.backups.values()]}))
"""


def _normal_font(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode("utf-8")
    return re.search(r"<font>.*?</font>", styles).group(0)


def test_a_second_split_in_one_process_writes_the_files_the_first_wrote(tmp_path):
    master = init_master(tmp_path / "master.xlsm", sample="fy2023")
    out = tmp_path / "配布用"
    run = subprocess.run([sys.executable, "-c", _TWO_SPLITS, str(master), str(out)], capture_output=True,
                         text=True, encoding="utf-8", timeout=300)
    assert run.returncode == 0, run.stderr
    made = json.loads(run.stdout.strip().splitlines()[-1])
    assert made["backups"] == [], made["backups"]     # nothing it replaced differed
    fonts = {Path(p).name: _normal_font(Path(p)) for p in made["files"]}
    assert len(set(fonts.values())) == 1, fonts       # 札幌市's, the first, as every other's
    assert not [p for p in out.iterdir() if p.is_dir()], list(out.iterdir())
