"""Install renkei-xl's server and command line from the wheel folder this file lies in, with
no network: ``python install.py`` with the Python the server will use (run it inside the
venv, or give that venv's python).

pip alone, asked for a Python the folder has no wheels for, says in English that there is
"No matching distribution found for xlwings"; this says in Japanese which Python versions
the folder serves and what to do, before pip runs. So for a Python older than renkei-xl's
floor (its wheel's Requires-Python, from setup.cfg and renkei_xl.PYTHON_MIN), where pip said
"requires a different Python" in English: Debian 12's own 3.11.2 is one. Copied into the
folder by deploy/wheels.py.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# xlwings ships compiled wheels only: its wheels say which Python versions the folder serves.
PLATFORM = "win_amd64" if sys.platform == "win32" else "manylinux"


def served() -> list[str]:
    versions = set()
    for wheel in HERE.glob("xlwings-*.whl"):
        m = re.search(r"-cp(\d)(\d+)-", wheel.name)
        if m and PLATFORM in wheel.name:
            versions.add((int(m.group(1)), int(m.group(2))))
    return [f"{a}.{b}" for a, b in sorted(versions)]


def floor() -> tuple[int, ...] | None:
    """The oldest Python the folder's newest renkei-xl runs on: its wheel's Requires-Python
    (">=3.11.5"), the one pip reads; read here, not written again (renkei_xl.PYTHON_MIN says why)."""
    def version(wheel: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", wheel.name.split("-")[1]))

    wheels = sorted(HERE.glob("renkei_xl-*.whl"), key=version)
    if not wheels:
        return None
    with zipfile.ZipFile(wheels[-1]) as wheel:
        metadata = next((n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")), None)
        text = wheel.read(metadata).decode("utf-8") if metadata else ""
    m = re.search(r"^Requires-Python:\s*>=\s*([\d.]+)\s*$", text, re.MULTILINE)
    return tuple(int(part) for part in m.group(1).split(".")) if m else None


def too_old(lowest: tuple[int, ...] | None) -> str | None:
    if lowest is None or sys.version_info[:3] >= lowest:
        return None
    running, shown = ".".join(map(str, sys.version_info[:3])), ".".join(map(str, lowest))
    return (f"エラー: この Python は {running} です。renkei-xl は Python {shown} 以降で動きます（それより前の版では"
            f"正規表現の不具合で結果が正しくならないため）。python.org の Python {shown} 以降（3.12・3.13 も可）で "
            "venv を作って、その venv の python で install.py を実行してください。何も入れていません")


def main() -> int:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    versions = served()
    if not versions:
        print(f"エラー: フォルダー「{HERE}」に、この OS 用の renkei-xl のパッケージがありません。"
              "インターネットにつながるパソコンで make wheels（python deploy/wheels.py）を実行して作ったフォルダーを"
              "コピーしてください", file=sys.stderr)
        return 2
    if said := too_old(floor()):    # before the versions served: a rebuilt folder would not help
        print(said, file=sys.stderr)
        return 2
    if here not in versions:
        print(f"エラー: Python {here} 用のパッケージはこのフォルダーにありません（このフォルダーで入れられるのは "
              f"Python {'・'.join(versions)}）。そのどれかの Python で venv を作って実行するか、インターネットに"
              f"つながるパソコンで python deploy/wheels.py --python {here} を実行してフォルダーを作り直してください",
              file=sys.stderr)
        return 2
    # --force-reinstall: the same command upgrades (docs/staff-setup.md 0-2). Without it pip
    # found renkei-xl 「already satisfied」 by the version installed last year, changed
    # nothing, and this said 「入れました」 all the same; the venv now holds what the folder holds.
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--find-links", str(HERE),
                          "--force-reinstall", "renkei-xl[server]"])
    if run.returncode != 0:
        print(f"エラー: インストールできませんでした（pip の終了コード {run.returncode}。上の pip の表示を IT 担当者に"
              "伝えてください）", file=sys.stderr)
        return run.returncode
    print(f"renkei-xl を入れました（Python {here}）。renkei-xl serve --help で確かめられます。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
