"""The Python the tool runs on (renkei_xl.PYTHON_MIN), and how a sentence reaches staff where
no window of ours can show it: a button's RunPython box, or the console.

Read by whatever Python staff start the tool with, older ones too: plain syntax only, no
annotation a Python before 3.10 would evaluate, and nothing of ours imported (the package
passes its floor in: it imports this module, and the floors allow no circle).
"""

import sys

# The words a sentence of the click's own starts with on stderr, where RunPython shows it when
# no box could: Renkei.bas' RenkeiPythonFailed (its SAID_BY_CLICK) shows what follows them as
# the click said it. Any other stderr is a Python that stopped, and its lead says so: it put
# 「Python が途中で止まった…最後まで実行できませんでした」 above 「再計算しました」.
SAID_BY_CLICK = "renkei-xl: "
# Exit code of a refusal staff can mend (the command line's UserError, docs/staff-guide.md).
REFUSED = 2


def shown_version(version):
    return ".".join(str(part) for part in tuple(version)[:3])


def refusal(version, floor, made_with=None):
    """The sentence for a Python ``version`` older than ``floor`` (renkei_xl.PYTHON_MIN), or
    None for one the tool runs on.
    The running version named, what to install and one clause of why: without the why, staff
    on a 3.11 that "is 3.11 or later" read the refusal as the tool's mistake.
    ``made_with``: the version the venv says it was made with (venv_version). Newer than the
    running one, the venv's Python did not run: a pyenv-built Python copied out of /root keeps
    /root in its library path, so under the service account the OS's older libpython loaded
    instead, and 「python.org の Python を入れて」 sent IT to install what it had installed."""
    if tuple(version)[:3] >= tuple(floor):
        return None
    ran_other = made_with is not None and tuple(made_with)[:3] >= tuple(floor)
    running, floor = shown_version(version), shown_version(floor)
    if ran_other:
        return (f"エラー: この venv は Python {shown_version(made_with)} で作られていますが、動いているのは "
                f"Python {running} です（renkei-xl は Python {floor} 以降で動きます）。venv を作った Python の"
                "共有ライブラリ（libpython）がこのアカウントの読めない場所（/root の中など）にあると、代わりに OS の "
                "Python のものが読み込まれます。すべての利用者が読める場所（/opt など）に入れた Python で venv を作り直し、"
                "renkei-xl を入れ直してください。何も実行していません。")
    return (f"エラー: この Python は {running} です。renkei-xl は Python {floor} 以降で動きます"
            f"（それより前の版では正規表現の不具合で結果が正しくならないため）。python.org の Python {floor} 以降"
            "（3.12・3.13 も可）を入れて、その Python に renkei-xl を入れ直してください。何も実行していません。")


def venv_version(prefix):
    """The version ``prefix``'s pyvenv.cfg says its venv was made with (``version`` up to 3.12,
    ``version_info`` besides it from 3.13), or None: no venv, or a file not in that shape."""
    import os

    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as cfg:
            lines = cfg.read().splitlines()
    except (OSError, ValueError):
        return None
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("version", "version_info"):
            parts = value.strip().split(".")[:3]
            if len(parts) == 3 and all(part.isdigit() for part in parts):
                return tuple(int(part) for part in parts)
    return None


def say(text):
    """``text`` on stderr after SAID_BY_CLICK, as RunPython's box and a console read it.

    RunPython shows Python's stderr only after an exit code other than 0 (on Windows), reading
    the log with VBA's Line Input in the ANSI code page (932 on a Japanese Windows), lines
    ending in CR LF: Python's UTF-8 mode (PYTHONUTF8=1, and the default from Python 3.15,
    PEP 686) wrote the sentence in UTF-8, garbled in the box. A console (a tty) is written as
    text: its buffer takes UTF-8 on Windows, whatever the code page."""
    said, stream = SAID_BY_CLICK + text + "\n", sys.stderr
    if stream is None:       # pythonw without a log has no stderr: the exit code still says it
        return
    raw = getattr(stream, "buffer", None)
    if sys.platform == "win32" and raw is not None and not _console(stream):
        stream.flush()
        raw.write(said.replace("\r\n", "\n").replace("\n", "\r\n").encode(_ansi_code_page(), "replace"))
        raw.flush()
    else:
        stream.write(said)
        stream.flush()


def _console(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _ansi_code_page():
    """Windows' ANSI code page whatever the UTF-8 mode: locale.getencoding() from 3.11."""
    import locale

    getencoding = getattr(locale, "getencoding", None)
    if getencoding is not None:
        return getencoding()
    import _locale

    return _locale._getdefaultlocale()[1] or "mbcs"


def refuse(floor, version=None, prefix=None):
    """Stop an interpreter older than ``floor``: the sentence, then SystemExit, never a
    traceback. SystemExit, not an exception: it passes every ``except Exception`` (the command
    line's last guard would call it 予期しないエラー), the console script and runpy let it
    end the process quietly, and RunPython shows stderr because the code is not 0.
    ``version`` and ``prefix`` (the venv whose pyvenv.cfg is read) are a test's; by default the
    running interpreter's, sys.prefix with it."""
    if version is None:
        version, prefix = sys.version_info, sys.prefix
    if tuple(version)[:3] >= tuple(floor):
        return      # every command and click passes here: pyvenv.cfg is read only to refuse
    said = refusal(version, floor, None if prefix is None else venv_version(prefix))
    say(said)
    raise SystemExit(REFUSED)
