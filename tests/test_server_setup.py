"""docs/staff-setup.md chapter 0 as IT follows it on a Linux server (qa-117): the mistakes an
administrator makes while setting up ``renkei-xl serve`` are each said in one Japanese line
that says what to do, never a traceback, and what the server runs with though the doc says
otherwise (a key file every user may read) is said after the start line.

Real processes and real files: ``renkei-xl serve`` started as a process, the certificate
made by the doc's own openssl command."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ports import free_port as _free_port

SETUP = Path(__file__).resolve().parents[1] / "docs" / "staff-setup.md"
KEY = "test-key-7f3a9c1e5b2d4a6f8e0c"
_NO_MODE_RIGHTS = "-dac_override,-dac_read_search"


def _env() -> dict:
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial"}
    env.pop("RENKEI_XL_SERVER_KEY", None)
    return env


def _serve_args(tmp_path: Path, *more: str) -> list[str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return [sys.executable, "-m", "renkei_xl.cli", "serve", "--host", "127.0.0.1", "--port", str(_free_port()),
            "--workdir", str(work), "--log", str(tmp_path / "logs" / "server.log"),
            "--error-log", str(tmp_path / "logs" / "error.log"), *more]


def _doc_openssl(folder: Path) -> tuple[Path, Path]:
    """The self-signed pair made by the openssl line docs/staff-setup.md 0-5 gives, run as typed
    in ``folder`` (its file names are relative)."""
    [line] = [ln.strip() for ln in SETUP.read_text(encoding="utf-8").splitlines() if ln.strip().startswith("openssl req ")]
    subprocess.run(shlex.split(line), cwd=folder, check=True, capture_output=True, timeout=60)
    return folder / "server.crt", folder / "server.key"


def test_the_certificate_and_key_given_the_wrong_way_round_are_named_as_swapped(tmp_path):
    cert, key = _doc_openssl(tmp_path)
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")
    key_file.chmod(0o600)
    run = subprocess.run(_serve_args(tmp_path, "--key-file", str(key_file), "--ssl-certfile", str(key),
                                     "--ssl-keyfile", str(cert)),
                         env=_env(), capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "入れ替わっています" in run.stderr and f"--ssl-certfile {cert} --ssl-keyfile {key}" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    # the right way round, the doc's pair is one the server loads
    from renkei_xl.server.config import check_tls

    check_tls(str(cert), str(key))


def test_a_key_file_the_service_account_cannot_read_says_how_to_let_it(tmp_path):
    """Root's rights over file modes taken away (setpriv), as a service account has none."""
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")
    key_file.chmod(0o000)
    caps = _NO_MODE_RIGHTS
    run = subprocess.run(["setpriv", "--bounding-set", caps, "--inh-caps", caps,
                          *_serve_args(tmp_path, "--key-file", str(key_file))],
                         env=_env(), capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "読めません" in run.stderr and f"chmod 640 {key_file}" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr


def _started_and_stopped(args: list[str], log: Path) -> tuple[str, str]:
    """``args`` served until it answers, then stopped as systemctl stops it: its console
    (standard error) and its log."""
    proc = subprocess.Popen(args, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = args[args.index("--port") + 1]
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    return err, log.read_text(encoding="utf-8")


def test_a_key_file_every_user_may_read_is_said_after_the_start_line(tmp_path):
    """docs/staff-setup.md 0-3: the key in a file only the service's account reads. A key
    written by an editor or `>` (mode 644) ran the server as well, nothing said."""
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")
    key_file.chmod(0o644)
    log = tmp_path / "logs" / "server.log"
    console, logged = _started_and_stopped(_serve_args(tmp_path, "--key-file", str(key_file)), log)
    words = f"鍵のファイル「{key_file}」は、このサーバーのすべての利用者が読めます（アクセス権 0644）"
    assert words in console and f"chmod 640 {key_file}" in console, console
    assert re.search(r"WARNING request=- client=- outcome=設定の警告 source=renkei-xl text=\"" + re.escape(words), logged), logged
    lines = logged.splitlines()
    assert "サーバーを起動しました" in lines[0] and "Traceback" not in console + logged


def test_a_key_file_only_the_service_reads_is_not_warned_of(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")
    key_file.chmod(0o640)
    log = tmp_path / "logs" / "server.log"
    console, logged = _started_and_stopped(_serve_args(tmp_path, "--key-file", str(key_file)), log)
    assert "鍵のファイル" not in console + logged and "WARNING" not in logged, console + logged


def _wheel(folder: Path, marker: str) -> None:
    """A stand-in renkei-xl 0.1.0 wheel (no dependencies, the ``server`` extra empty) whose
    module says ``marker``: what a new wheels folder brings for the same version number."""
    import zipfile

    info = "renkei_xl-0.1.0.dist-info"
    files = {"renkei_xl/__init__.py": f"MARK = {marker!r}\n",
             f"{info}/METADATA": "Metadata-Version: 2.1\nName: renkei-xl\nVersion: 0.1.0\nProvides-Extra: server\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / "renkei_xl-0.1.0-py3-none-any.whl", "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)


def test_install_py_run_again_with_a_new_folder_upgrades(tmp_path):
    """docs/staff-setup.md 0-2's upgrade: the new wheels folder's install.py, run with the
    server's venv. pip found renkei-xl 「already satisfied」 and changed nothing, and install.py
    said 「入れました」."""
    import shutil

    from test_wheels import venv_with_pip   # the server's venv as `python -m venv` makes it

    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    python = venv_with_pip(sys.executable, tmp_path / "venv")
    for marker in ("last year", "this year"):
        folder = tmp_path / marker.replace(" ", "-")
        folder.mkdir()
        shutil.copyfile(Path(__file__).resolve().parents[1] / "deploy" / "install.py", folder / "install.py")
        # install.py reads the Python versions served from xlwings' wheel names; never installed here
        (folder / f"xlwings-0.0.0-{tag}-{tag}-manylinux_2_17_x86_64.whl").write_bytes(b"")
        _wheel(folder, marker)
        run = subprocess.run([str(python), str(folder / "install.py")], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        said = subprocess.run([str(python), "-c", "import renkei_xl; print(renkei_xl.MARK)"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert said.stdout.strip() == marker, (said.stdout, said.stderr, run.stdout)


def _as_service_account(args: list[str], drop: str = "") -> subprocess.CompletedProcess:
    """``args`` without root's rights over file modes (and ``drop``), as a service account has none."""
    caps = _NO_MODE_RIGHTS + (f",{drop}" if drop else "")
    return subprocess.run(["setpriv", "--bounding-set", caps, "--inh-caps", caps, *args],
                          env=_env(), capture_output=True, text=True, timeout=60)


def test_a_log_folder_the_service_account_cannot_make_says_to_make_it(tmp_path):
    """/var/log/renkei-xl is made by systemd's LogsDirectory for the service; a start by hand as
    the service's account (docs/staff-setup.md 0-4) met 「書き込めるファイルを --log に指定して
    ください」, about a file, when the folder was missing."""
    var_log = tmp_path / "var-log"
    var_log.mkdir(mode=0o755)
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")
    key_file.chmod(0o640)
    args = _serve_args(tmp_path, "--key-file", str(key_file))
    args[args.index("--log") + 1] = str(var_log / "renkei-xl" / "renkei-xl.log")
    args[args.index("--error-log") + 1] = str(var_log / "renkei-xl" / "error.log")
    var_log.chmod(0o555)
    run = _as_service_account(args)
    assert run.returncode == 2, run.stderr
    assert f"フォルダー「{var_log / 'renkei-xl'}」がなく、作れません" in run.stderr, run.stderr
    assert f"install -d -o renkei -g renkei -m 750 {var_log / 'renkei-xl'}" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr


def test_a_port_under_1024_for_the_service_account_says_to_take_one_above(tmp_path):
    """IT gives --port 443 for HTTPS: the service's account may not listen there, and the
    start said 「ほかのプログラムが使っていないポートか、このサーバーのアドレスを」."""
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")
    key_file.chmod(0o640)
    args = _serve_args(tmp_path, "--key-file", str(key_file))
    args[args.index("--port") + 1] = "443"
    run = _as_service_account(args, drop="-net_bind_service")
    assert run.returncode == 2, run.stderr
    assert "1024 より小さいポート" in run.stderr and "8443" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
