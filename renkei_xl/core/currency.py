"""Excel's Currency: the one number format whose Range.Value is not the stored number.

Why this exists: xlwings' VBA client (Remote.bas, ``RunServerPython``) sends each cell's
Range.Value, and Range.Value is a VBA Currency for a cell formatted as Currency or
Accounting (Range.Value2's documentation: "the only difference between this property and
the Value property is that the Value2 property doesn't use the Currency and Date data
types"; https://learn.microsoft.com/en-us/office/vba/api/excel.range.value2). A Currency
holds four decimal places, so 12.00005 typed into a 「[$¥-411]#,##0.00」 cell reaches the
server as 12 while the saved file holds 12.00005, and the two faces judged two numbers
(「件数・人数なのに小数です」 on the command line, nothing on the button). A Date is the other
data type Value uses: it carries the whole stored serial (to the second), and both faces
read it as the same date, so it needs nothing here.

The master's VBA (client 9 on) sends the open book's exact numbers beside the payload
(X-Renkei-Currency: Range.Value2 of each cell whose Value is a Currency that is another
number; server.currency_header), unsaved edits included. Where it does not (an older master,
a sheet past the header's bound), the server has the saved master (excel.remote.SavedFills),
which holds the number as Excel stores it. Either number is read in place of the one sent
only where rounding it to Currency gives the number sent (``saved_number``): a number the
client sent otherwise is staff's since the save, and a doctored header changes nothing else.
One rule for the tests' model of the client (tests/remote_payload) and the product's undoing
of it.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Optional

# What VBA's Currency holds: a 64-bit integer of ten-thousandths.
CURRENCY_LIMIT = Decimal("922337203685477.5807")
CURRENCY_SCALE = 10_000
# A bracket of a number format ends at its 「]」, and holds no 「[」: each is searched from its
# 「[」 to the next 「[」 at most, once (possessive). Why: 「[$」 repeated without 「]」 was
# searched from every one to the end, and back from each place to the end again: 0.17 s for
# 800 characters, past 200 s for 10,000 (a numFmt of styles.xml is not bounded; Excel's are
# 255 characters), for the server's read of a master's Currency formats (Styles.currency_xfs).
_FORMAT_CONDITION = re.compile(r"\[(?!\$)[^\]\[]*+\]")      # [Red], [>=100], [DBNum1]: not a symbol
_CURRENCY_TAG = re.compile(r"\[\$([^\]\[-]*+)[^\]\[]*+\]")  # [$¥-411] (a symbol), [$-411] (a locale alone)
CURRENCY_SYMBOLS = "$¥￥€£"
# Builtin number formats of the Currency and Accounting categories (ECMA-376 18.8.30: 5-8
# the currency formats, whose code is the locale's, 「"¥"#,##0;"¥"\-#,##0」 in Japan; 42 and
# 44 the accounting ones with a symbol; 41 and 43 carry none and are Double).
CURRENCY_BUILTIN_IDS = frozenset((5, 6, 7, 8, 42, 44))


def is_currency_format(code: Optional[str]) -> bool:
    """Whether a number format is of Excel's Currency or Accounting category: a currency
    symbol in it, quoted, escaped or in a [$¥-411] tag (a [$-411] locale tag is none, so a
    和暦 date 「[$-411]ggge"年"m"月"d"日"」 is a date, not Currency)."""
    if not code or code == "General":
        return False
    text = _FORMAT_CONDITION.sub("", code)
    if any(tag for tag in _CURRENCY_TAG.findall(text)):
        return True
    return any(symbol in _CURRENCY_TAG.sub("", text) for symbol in CURRENCY_SYMBOLS)


def vba_currency(value: float) -> float:
    """A Double as VBA's Currency holds it (four decimal places, half to even, as OLE's
    VarCyFromR8 rounds), the Double itself outside Currency's range (no Excel runs here to
    say what Range.Value gives there: the number is left as it is)."""
    exact = Decimal(value)
    if not exact.is_finite() or abs(exact) > CURRENCY_LIMIT:
        return value
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def _number(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def currency_rounds(saved: object) -> bool:
    """Whether Range.Value of a Currency cell holding the number ``saved`` is another number
    (it has digits past the fourth decimal place): only such cells are worth following to
    where the workbook sent has them; every other one was sent as it is saved."""
    if not _number(saved):
        return False
    return not _is_currency(saved) and abs(saved) <= CURRENCY_LIMIT


def _is_currency(number: float) -> bool:
    """Whether ``number`` is a Double a VBA Currency converts to: the one nearest a number of
    ten-thousandths, which ``vba_currency`` gives back. Not whether ``number * 10_000`` is whole:
    in binary 12.3457 times 10,000 is 123457.00000000001, so the button took the Currency 12.3457
    sent for 12.345678 for no Currency at all and read it, where the command line read the
    12.345678 the book holds (faces walker, qa-135)."""
    return vba_currency(number) == number


def saved_number(sent: object, saved: object) -> object:
    """The value to read for a Currency-formatted cell that the VBA client sent as ``sent``
    and the client's header (its Value2) or the saved master holds as ``saved``: that number
    where rounding it to Currency gives the number sent, else what was sent (staff changed the
    cell since the save, a header said another number, or it is no number). Within half a ten-thousandth either way, not through ``vba_currency``'s
    exact tie rule: which way Excel breaks a tie is not measured here, and a number one
    rounding away from the one sent is that number whichever way it went."""
    if not (_number(sent) and _number(saved)) or sent == saved:
        return sent
    if not _is_currency(sent) or abs(saved * CURRENCY_SCALE - sent * CURRENCY_SCALE) > 0.5:
        return sent
    return saved
