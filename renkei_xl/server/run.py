"""``renkei-xl serve``: the app on uvicorn, with a log of outcomes only.

uvicorn's access log is off (it would add the client's address and the request line);
our one line per click says time, button, user, outcome and duration (renkei_xl.server.app).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from .config import ServerConfig

# With several worker processes, uvicorn imports the app in each of them: the settings
# travel in this variable (the key stays where it was: its own variable or file).
CONFIG_ENV = "RENKEI_XL_SERVER_CONFIG"

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def configure_logging() -> None:
    logger = logging.getLogger("renkei_xl.server")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def serve(config: ServerConfig, host: str, port: int, workers: int = 1, key_file: str | None = None) -> None:
    """Serve until stopped. ``workers`` > 1: that many warm processes share the port, so
    clicks from many PCs at once run side by side on a machine with that many cores."""
    import uvicorn

    configure_logging()
    log = logging.getLogger("renkei_xl.server")
    log.info("renkei-xl server on http://%s:%d work folder %s%s, %d worker(s)", host, port, config.workdir,
             f" ({config.share})" if config.share else "", workers)
    options = dict(host=host, port=port, access_log=False, log_level="warning", server_header=False,
                   date_header=False)
    if workers <= 1:
        from .app import create_app

        uvicorn.run(create_app(config), **options)
        return
    os.environ[CONFIG_ENV] = json.dumps({"workdir": str(config.workdir), "share": config.share,
                                         "max_bytes": config.max_bytes, "key_file": key_file})
    uvicorn.run("renkei_xl.server.run:app_from_env", factory=True, workers=workers, **options)


def app_from_env():
    """The app of one worker process, from the settings ``serve`` left in CONFIG_ENV."""
    from .app import create_app
    from .config import load_key

    configure_logging()
    settings = json.loads(os.environ[CONFIG_ENV])
    return create_app(ServerConfig(Path(settings["workdir"]), load_key(settings["key_file"]),
                                   max_bytes=settings["max_bytes"], share=settings["share"]))
