"""``renkei-xl serve``: the app on uvicorn, with a log of outcomes only.

uvicorn's access log is off (it would add the client's address and the request line);
our one line per click says time, button, user, outcome and duration (renkei_xl.server.app).
"""

from __future__ import annotations

import logging
import sys

from .config import ServerConfig

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def configure_logging() -> None:
    logger = logging.getLogger("renkei_xl.server")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def serve(config: ServerConfig, host: str, port: int) -> None:
    import uvicorn

    from .app import create_app

    configure_logging()
    app = create_app(config)
    log = logging.getLogger("renkei_xl.server")
    log.info("renkei-xl server on http://%s:%d work folder %s%s", host, port, config.workdir,
             f" ({config.share})" if config.share else "")
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning",
                server_header=False, date_header=False)
