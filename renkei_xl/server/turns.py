"""Clicks in turn: how many buttons one worker runs at once, and how long a click may wait.

A button is Python work under one GIL: two at once in one process each take twice as long,
so a burst of clicks (eight 配布用ファイル作成 at once on the largest master served) made
every one of them miss the client's timeout, and the server then logged each as 完了 for a
client that was gone. Run in turn, the first ones answer as fast as alone; a click whose
wait would leave it no time to run before the client gives up is refused at once in
Japanese (503, with its number), which SPEC asks for instead of a timeout. More clicks at
the same moment are served by more workers (``--workers``), one turn each.

The wait is the click's in all, not its turn's only: a click that got its turn may still
meet a writer lock held elsewhere (the command line exporting, another worker's click on
the same folder), and waits for it only as long as its wait has left (``turn`` yields that
moment; server.app hands it to safety.waiting_until). It is counted from the moment the
request arrived, its body's sending included: Excel's 30 s run from the click, and a book
sent in 15 s (a slow line) whose turn then came 14 s later ran past the moment Excel gave
up, writing files (配布用, 確定版) nobody was told about. A turn free at once is taken
whatever the sending took: the click may still answer in time, and no one is waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import AsyncIterator, Optional

# xlwings' VBA client gives up after 30 s (the TIMEOUT row of xlwings.conf); every button
# answers within 10 s up to the size served (server.limits, docs/performance.md). A click
# may wait for its turn for the rest.
CLIENT_TIMEOUT_SECONDS = 30.0
LONGEST_CLICK_SECONDS = 10.0
TURN_WAIT_SECONDS = CLIENT_TIMEOUT_SECONDS - LONGEST_CLICK_SECONDS
CLICKS_AT_ONCE = 1

BUSY = ("サーバーが混み合っているため、{caption}を受け付けられませんでした（{why}）。ブックは変更していません。"
        "少し待ってから、もう一度ボタンを押してください。")
# Past this, the sending is named in the refusal: it is why the click could wait less.
SENT_SAID_SECONDS = 1.0


class Busy(Exception):
    """No turn came within the wait: ``waited`` seconds for it, after ``sent`` seconds
    between the request's arrival and its asking (the body's sending)."""

    def __init__(self, waited: float, sent: float) -> None:
        super().__init__(waited, sent)
        self.waited, self.sent = waited, sent

    def said(self, caption: str) -> str:
        why = f"ほかのボタンの処理を {self.waited:.1f} 秒待ちました"
        if self.sent >= SENT_SAID_SECONDS:
            why += f"。ブックの送信に {self.sent:.1f} 秒かかったため、待てる時間がその分短くなっていました"
        return BUSY.format(caption=caption, why=why)


class Turns:
    """``at_once`` clicks run at a time; the others wait up to ``wait`` seconds, in order."""

    def __init__(self, at_once: int = CLICKS_AT_ONCE, wait: float = TURN_WAIT_SECONDS):
        self.at_once, self.wait = at_once, wait
        self._slots: Optional[asyncio.Semaphore] = None   # made in the server's own loop

    @contextlib.asynccontextmanager
    async def turn(self, noted: Optional[dict] = None, arrived: Optional[float] = None) -> AsyncIterator[float]:
        """The turn, once it comes within ``wait`` of ``arrived`` (time.monotonic() when the
        request came; None: now) or at once (else Busy); yields the moment until which the
        click may still wait for anything else. ``noted["waited"]``: the seconds the turn
        took to come (the log line's waited=: a click's duration alone did not tell a slow
        click from one queued behind others)."""
        asked = time.monotonic()
        sent = max(asked - arrived, 0.0) if arrived is not None else 0.0
        until = asked - sent + self.wait
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.at_once)
        try:
            if self._slots.locked():
                if until <= asked:      # the sending took the whole wait: Busy at once
                    raise asyncio.TimeoutError
                # wait_for (3.10 has no asyncio.timeout): a permit won as time runs out is kept, not lost
                await asyncio.wait_for(self._slots.acquire(), until - asked)
            else:
                await self._slots.acquire()     # free: taken without yielding
        except asyncio.TimeoutError:
            waited = time.monotonic() - asked
            if noted is not None:       # the 混雑 line's waited=: its seconds were that wait, not a slow click
                noted["waited"] = waited
            raise Busy(waited, sent) from None
        if noted is not None:
            noted["waited"] = time.monotonic() - asked
        try:
            yield until
        finally:
            self._slots.release()
