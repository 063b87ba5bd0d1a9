"""Wrong keys slowed down: past WRONG_KEYS a minute from one address, or WRONG_KEYS_IN_ALL
from all addresses together, requests are refused (429) without their key being checked
until that minute ends.

Without it a client could try keys as fast as the worker answered, only the log thinned
(server.log.Quiet): a key IT chose by hand (16 characters is the least load_key takes) was a
matter of time. While an address is held, no key it sends is checked, the right one
included, or its answers would tell the right key from the wrong ones; the hold ends with the
minute, so a staff member who mistyped waits a minute at most. Past WRONG_KEYS_IN_ALL (many
addresses, IPv6), addresses that gave the right key within the last GOOD_KEPT are still
checked: the staff's PCs keep working while the others wait.

Memory stays bounded: an address is kept only after a wrong key its minute counted (so at
most about WRONG_KEYS_IN_ALL of them, and MAX_ADDRESSES whatever happens), and GOOD_KEPT
good addresses. Per worker, as every bound of the guard.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Optional

from ..core import contract as c

GUESS_SECONDS = 60.0
WRONG_KEYS = 10
WRONG_KEYS_IN_ALL = 100
GOOD_KEPT = 1000
MAX_ADDRESSES = 10_000

HELD_OUTCOME = "鍵の誤りが続き保留"           # a request refused unchecked (429)
STARTED_OUTCOME = "鍵の誤りが続いたため保留を開始"   # the line saying a hold began
ONE_TEXT = ("鍵の誤りが続いたため、このパソコンからのボタンを約 {seconds} 秒間受け付けません。シート「{conf}」の AUTH"
            "（またはパソコンの xlwings.conf）の鍵を、IT 担当者から受け取った鍵と見比べて直し、{seconds} 秒ほど待ってから"
            "もう一度押してください。ブックは変更していません。")
ALL_TEXT = ("サーバーに鍵の違う要求が多数届いているため、正しい鍵で最近使っていないパソコンからのボタンを約 {seconds} 秒間"
            "受け付けません。{seconds} 秒ほど待ってからもう一度押してください。続くときは IT 担当者に連絡してください。"
            "ブックは変更していません。")
STARTED_ONE = "1 分間に鍵の誤りが {count} 回に達したため、このアドレスの要求を {seconds} 秒間、鍵を確かめずに断ります"
STARTED_ALL = ("1 分間に鍵の誤りが全体で {count} 回に達したため、最近正しい鍵を送っていないアドレスの要求を {seconds} 秒間、"
               "鍵を確かめずに断ります")
ALL_ADDRESSES = "（全体）"


class Guesses:
    """Wrong keys counted per address and in all (``wrong``), good addresses remembered
    (``right``), and whether a request is held (``held``)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._wrong: OrderedDict[str, list] = OrderedDict()   # address -> [start, count], oldest first
        self._all = [float("-inf"), 0]
        self._good: OrderedDict[str, None] = OrderedDict()

    def held(self, address: str) -> Optional[str]:
        """The Japanese text for a request held without its key checked, or None."""
        now = self.clock()
        window = self._wrong.get(address)
        if window is not None and window[1] >= WRONG_KEYS and now - window[0] < GUESS_SECONDS:
            return ONE_TEXT.format(seconds=_seconds(window[0] + GUESS_SECONDS - now), conf=c.XLWINGS_CONF)
        if self._all[1] >= WRONG_KEYS_IN_ALL and now - self._all[0] < GUESS_SECONDS and address not in self._good:
            return ALL_TEXT.format(seconds=_seconds(self._all[0] + GUESS_SECONDS - now))
        return None

    def wrong(self, address: str) -> None:
        from . import log as server_log

        now = self.clock()
        self._forget(now)
        if now - self._all[0] >= GUESS_SECONDS:
            self._all = [now, 0]
        self._all[1] += 1
        if self._all[1] == WRONG_KEYS_IN_ALL:
            server_log.log.warning("%s", server_log.line(request="-", client=ALL_ADDRESSES, outcome=STARTED_OUTCOME,
                                                         text=STARTED_ALL.format(count=WRONG_KEYS_IN_ALL,
                                                                                 seconds=_seconds(GUESS_SECONDS))))
        window = self._wrong.get(address)
        if window is None:
            if len(self._wrong) >= MAX_ADDRESSES:
                return                  # counted in all only
            window = self._wrong[address] = [now, 0]
        window[1] += 1
        if window[1] == WRONG_KEYS:
            server_log.log.warning("%s", server_log.line(request="-", client=address, outcome=STARTED_OUTCOME,
                                                         text=STARTED_ONE.format(count=WRONG_KEYS,
                                                                                 seconds=_seconds(window[0] + GUESS_SECONDS - now))))

    def right(self, address: str) -> None:
        self._good[address] = None
        self._good.move_to_end(address)
        while len(self._good) > GOOD_KEPT:
            self._good.popitem(last=False)

    def _forget(self, now: float) -> None:
        """Addresses whose minute has ended, oldest first: each dropped once."""
        while self._wrong:
            address, window = next(iter(self._wrong.items()))
            if now - window[0] < GUESS_SECONDS:
                return
            del self._wrong[address]


def _seconds(left: float) -> int:
    return max(1, int(left + 0.999))
