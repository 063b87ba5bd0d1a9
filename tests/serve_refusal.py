"""``renkei-xl serve``'s start checks run in the test's own process.

A refused start needs only its exit status and its line on standard error: a child Python
for each (importing the tool, the app's framework and uvicorn) took 0.3 CPU-s, fourteen of them in one
test. The checks run here as ``main`` runs them, with the process' environment replaced;
the start itself is replaced by a BaseException ``main`` does not catch, so a setting that
passes every check fails the test instead of starting uvicorn inside pytest. What only a
process shows (the licence xlwings checks on import, a worker never started) stays with
tests that start ``renkei-xl serve`` as a process.
"""

from __future__ import annotations

import contextlib
import io
import os
from unittest import mock


class Started(BaseException):
    """Every check passed: the server would start."""


def serve_in_process(args: list, env: dict) -> tuple[int, str]:
    """``renkei-xl serve args`` under ``env`` (the whole environment): its exit status and
    what it wrote to standard error."""
    from renkei_xl.cli import main as cli_main
    from renkei_xl.server import run as server_run

    def started(*_args, **_kwargs):
        raise Started(f"serve {args} passed every check")

    err = io.StringIO()
    with mock.patch.dict(os.environ, env, clear=True), mock.patch.object(server_run, "serve", started), \
            contextlib.redirect_stderr(err):
        status = cli_main(["serve", *args])
    return status, err.getvalue()
