"""`make wheels` (deploy/wheels.py): one folder that installs the server and the command line
with no network. The Linux set is installed into a fresh venv with pip's index and every
configured source switched off; the Windows set is checked by its file names (binary
packages for win_amd64 are there), since it cannot be installed here."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
TAG = f"cp{sys.version_info.major}{sys.version_info.minor}"


def test_the_wheel_folder_installs_the_server_with_no_network(tmp_path):
    wheels = tmp_path / "wheels"
    run = subprocess.run([sys.executable, str(REPO / "deploy" / "wheels.py"), "--outdir", str(wheels),
                          "--python", PY], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    names = [p.name.lower() for p in wheels.glob("*.whl")]
    for package in ("renkei_xl-", "xlwings-", "python_calamine-", "pydantic_core-", "fastapi-", "uvicorn-",
                    "openpyxl-", "xlsxwriter-"):
        assert any(n.startswith(package) for n in names), package
    for package in ("xlwings-", "python_calamine-", "pydantic_core-", "pywin32-"):   # the Windows set
        assert any(n.startswith(package) and n.endswith("win_amd64.whl") and TAG in n for n in names), package

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    isolated = {**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")},
                "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--find-links", str(wheels),
                              "renkei-xl[server]"], capture_output=True, text=True, timeout=900, env=isolated,
                             cwd=tmp_path)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    check = subprocess.run([str(env_dir / "bin" / "renkei-xl"), "serve", "--help"], capture_output=True,
                           text=True, timeout=120, env=isolated, cwd=tmp_path)
    assert check.returncode == 0 and "--workdir" in check.stdout, check.stderr
    imported = subprocess.run([str(python), "-c", "import fastapi, uvicorn, xlwings, python_calamine, "
                               "renkei_xl.server.app, renkei_xl.cli; print('ok')"],
                              capture_output=True, text=True, timeout=120, env=isolated, cwd=tmp_path)
    assert imported.stdout.strip() == "ok", imported.stderr
