"""Which LiveBook class serves a book: the one place that asks which engine is behind it."""

from __future__ import annotations

import sys

from .book import MAC, REMOTE, WINDOWS, LiveBook
from .desktop import MacBook, WindowsBook
from .remote import RemoteBook, RemoteClient


def engine_of(book) -> str:
    """windows / mac / remote, from what xlwings reports about the book's app."""
    engine = book.app.engine
    if engine.type != "desktop":
        return REMOTE
    return WINDOWS if sys.platform.startswith("win") else MAC


def live_book(book) -> LiveBook:
    """The book behind its engine's class; a remote one is told what its client replays,
    from the payload (RemoteClient.of)."""
    engine = engine_of(book)
    if engine == REMOTE:
        return RemoteBook(book, RemoteClient.of(book.api))
    return WindowsBook(book) if engine == WINDOWS else MacBook(book)
