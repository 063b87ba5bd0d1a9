"""Differential check of core.displayed against LibreOffice's own rendering of a number format.

Not collected by pytest (a script): ``nice -n 15 .venv/bin/python tests/fuzz/formats_diff.py
--cases 3000 --seed 1 [--show 3] [--json out.jsonl]``. It draws number formats from a grammar
of what Japanese Excel users write (0, #,##0, 0.0, #.##, %, quoted and escaped words 件/人/千円/
以上/未満, scaling commas, [Red]/[色10]/[$-411]/[DBNum1], 1-4 sections, conditions on the first
two, @ in the last (Japanese Excel's dates end in 「;@」), ;;;, dates and eras, times, elapsed
time, fractions, scientific, _ and *) and values (integers, decimals, negatives, zero, large,
tiny, date serials), sets each pair into a cell of ONE headless soffice through UNO (a format
added with NumberFormats.addNew under Locale ja-JP, as tests/test_displayed.py's tables were
measured), reads getString() and compares it with number_shown. It also checks that
number_read, where it returns, shows the same words and digits that round to the shown ones,
and that as_displayed's number shows the same text as the number itself (precision as
displayed changes no shown text).

Each difference is put in a bucket named by its cause (``bucket``): the known Excel-vs-
LibreOffice differences that displayed.py's docstrings name are buckets of their own, so what is
left is worth reading. A number_shown of None where LibreOffice shows words (「1.23E+04千円」) is
bucketed too: collect then reads the number as stored, without the words (see the README).
Exit code 1 when an unexplained bucket is not empty.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.append("/usr/lib/python3/dist-packages")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from renkei_xl.core.displayed import (_section_for, _sections, as_displayed, number_read, number_shown,  # noqa: E402
                                      shown_without_digits, shows_date, shows_digits)
from staff_edits_fuzz import Office as Calc  # noqa: E402

# ----------------------------------------------------------------------------- the grammar

NUMBER_PARTS = ["0", "#,##0", "0.0", "0.00", "#.##", "#,##0.0", "#,##0.00", "0%", "0.0%", "0.00%",
                "#,##0,", "#,##0,,", "0.0,", "#,##0.0,,", "000", "0.0?", "#", "#,###", "0.###"]
# What shows no digit of a number that rounds to none of its holders (qa-88): 「#」 without a
# 0, a scaling comma after 「#」 alone, a decimal point without a 0 on either side, 「?」.
NO_ZERO_PARTS = ["#", "#,###", "#,###,", "#,,", "#.#", "#.##", ".#", "#%", "#.#%", "?", "??.??", "#,##0,",
                 "#,###,,", "#.#,"]
RARE_NUMBER_PARTS = ["0.00E+00", "0.0E+0", "##0.0E+0", "# ?/?", "# ??/??", "?/?", "0 ?/4", "General",
                     # words between digit holders: Japanese Excel's 郵便番号 and 電話番号, and alike
                     "000-0000", "####-####", "(00) ####-####", "0-0", "00 00", "0.0-0", "#-#.#"]
WORDS = ["件", "人", "千円", "円", "以上", "未満", "回", "%", "世帯", "か所", "名", "約", "万円", "団体"]
DATE_FORMATS = ["yyyy/m/d", "yyyy/mm/dd", 'yyyy"年"m"月"d"日"', 'ggge"年"m"月"d"日"',
                '[$-411]ggge"年"m"月"d"日"', '[$-411]gge"年"', '[$-411]ge.m.d', "m/d", "h:mm", "h:mm:ss",
                "hh:mm", "[h]:mm:ss", "[h]:mm", "[mm]:ss", "mm:ss", "yyyy/m/d h:mm", 'm"月"d"日"',
                "d-mmm-yy", "h:mm AM/PM", "yy/m/d", 'ggge"年"', "h:mm:ss.0"]
# As the file stores them: Japanese Excel's screen shows [赤] and [色10], its file [Red] and
# [Color10] (Calc under ja-JP refuses the screen's words).
DECORATIONS = ["[Red]", "[Color10]", "[Blue]", "[$-411]", "[DBNum1]", "[DBNum3]", "[RED]",
               "[DBNum1][$-411]", "[DBNum2][$-411]", "[DBNum3][$-411]", "[$-411][DBNum1]"]
CONDITIONS = ["[<10]", "[>=1E3]", "[=0]", "[<>5]", "[>=100]", "[<0]", "[>0]", "[<=-1]", "[>=10]", "[<1]",
              "[<0.5]", "[>100]", "[<-10]"]


def _word(rng: random.Random) -> str:
    w = rng.choice(WORDS)
    return rng.choice([f'"{w}"', f'"{w}"', "".join("\\" + c for c in w), f'" {w}"'])


def _number_section(rng: random.Random) -> str:
    r = rng.random()
    part = (rng.choice(RARE_NUMBER_PARTS) if r < 0.12 else rng.choice(NO_ZERO_PARTS) if r < 0.35
            else rng.choice(NUMBER_PARTS))
    before = after = ""
    r = rng.random()
    if r < 0.35:
        after = _word(rng)
    elif r < 0.45:
        before = _word(rng)
    elif r < 0.5:
        before, after = '"("', '")"'
    if rng.random() < 0.1:
        after += rng.choice(["_)", "_-", "_ "])
    if rng.random() < 0.05:
        before = rng.choice(["* ", "*-"]) + before
    if rng.random() < 0.07:
        before = rng.choice(["\\¥", '"▲"', "+", '"△"', "-"]) + before
    deco = rng.choice(DECORATIONS) if rng.random() < 0.2 else ""
    return deco + before + part + after


def _words_section(rng: random.Random) -> str:
    return rng.choice(['"－"', '"-"', '"ゼロ"', '"10未満"', '"100以上"', '"実施"', '"未実施"', '""', "", '"多"', '"少"'])


def _section(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.75:
        return _number_section(rng)
    if r < 0.92:
        return _words_section(rng)
    return rng.choice(DATE_FORMATS)


def draw_format(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.12:
        fmt = rng.choice(DATE_FORMATS) if rng.random() < 0.8 else rng.choice(DECORATIONS) + rng.choice(DATE_FORMATS)
        # Japanese Excel's own date formats end in a text section (「yyyy"年"m"月"d"日";@」)
        return fmt + ";@" if rng.random() < 0.3 else fmt
    if r < 0.14:
        return rng.choice([";;;", ";;", "0;;", ";0", "0;-0;;@", '0;-0;"－";@', '"件数"@', "@"])
    n = rng.choices([1, 2, 3, 4], weights=[4, 3, 3, 1])[0]
    sections = [_section(rng) for _ in range(n)]
    if n >= 2 and rng.random() < 0.35:             # a negative section with its own sign
        sections[1] = rng.choice(['"▲"', '"△"', "-", '"("', ""]) + sections[0].lstrip("-") + (
            '")"' if sections[1].startswith('"("') else "")
    if rng.random() < 0.3:                           # conditions on the first (and second)
        sections[0] = rng.choice(CONDITIONS) + sections[0]
        if n >= 2 and rng.random() < 0.5:
            sections[1] = rng.choice(CONDITIONS) + sections[1]
    if n == 4:
        sections[3] = rng.choice(["@", '"件数"@', '@"様"', ""])
    elif rng.random() < 0.15:                        # a text section after fewer than three (「0.00;@」)
        sections.append(rng.choice(["@", '"件数"@', '@"様"']))
    return ";".join(sections)


def draw_value(rng: random.Random) -> float:
    r = rng.random()
    if r < 0.25:
        v = rng.choice([0, 1, 5, 9, 10, 12, 99, 100, 101, 999, 1000, 1234, 12345, 123456, 1234567, 60, 61])
    elif r < 0.5:
        v = round(rng.uniform(0, 2000), rng.choice([1, 2, 3]))
    elif r < 0.6:
        v = rng.choice([0.5, 1.005, 12.345, 0.855, 2.5, 0.4, 0.05, 1.5, 0.125, 2.675, 0.0451388888888889,
                        0.999, 9.995, 0.3333333333333333, 99.95])
    elif r < 0.7:
        v = rng.choice([1e10, 123456789012, 98765432.1, 1e15, 4.5e7, 2.5e6])
    elif r < 0.77:
        v = rng.choice([1e-5, 0.0004, 0.00049, 3e-9, 0.0005])
    elif r < 0.85:      # rounds to no digit of a 「#」 section (qa-88)
        v = rng.choice([0.3, 0.4, 0.04, 0.049, 300, 499, 0.001, 0.004, 0.45, 0.5, 450000, 0.0049])
    else:
        v = rng.choice([45000, 45000.5, 43586, 43585, 32516, 44561.25, 45382, 4595, 9497, 1.5, 2.75])
    if rng.random() < 0.3:
        v = -v
    return v

# ----------------------------------------------------------------------------- LibreOffice


class Office:
    """ONE headless soffice of this run (own profile, own process group: staff_edits_fuzz.Office)."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="lo_formats_diff_")
        self.calc = Calc(Path(self.tmp))       # the walkers' one way to start and end a soffice
        self.calc.start()
        desktop = self.calc.desktop
        from com.sun.star.beans import PropertyValue
        from com.sun.star.lang import Locale
        hidden = PropertyValue()
        hidden.Name, hidden.Value = "Hidden", True
        self.doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (hidden,))
        self.sheet = self.doc.Sheets.getByIndex(0)
        self.formats = self.doc.NumberFormats
        self.locale = Locale("ja", "JP", "")
        self.english = Locale("en", "US", "")
        self.keys: dict[str, "int | None"] = {}

    def key(self, fmt: str) -> "int | None":
        """The document's key of ``fmt`` (added under ja-JP), or None where Calc refuses it."""
        if fmt not in self.keys:
            # 「General」 is letters in Calc's ja-JP codes (G, an era …): such a format is added
            # as the file's import adds it, converted from en-US.
            try:
                if re.search(r"(?i)general", fmt):
                    k = self.formats.addNewConverted(fmt, self.english, self.locale)
                else:
                    k = self.formats.queryKey(fmt, self.locale, False)
                    if k == -1:
                        k = self.formats.addNew(fmt, self.locale)
            except Exception:
                k = None
            self.keys[fmt] = k
        return self.keys[fmt]

    def shown(self, pairs: list[tuple[float, str]]) -> list["str | None"]:
        """What Calc shows for each (value, format), batched in one column (None: refused)."""
        out: list["str | None"] = []
        for start in range(0, len(pairs), 1000):
            chunk = pairs[start:start + 1000]
            rng = self.sheet.getCellRangeByPosition(0, 0, 0, len(chunk) - 1)
            rng.setDataArray(tuple((float(v),) for v, _f in chunk))
            keys = [self.key(f) for _v, f in chunk]
            for i, k in enumerate(keys):
                if k is not None:
                    self.sheet.getCellByPosition(0, i).NumberFormat = k
            for i, k in enumerate(keys):
                out.append(None if k is None else self.sheet.getCellByPosition(0, i).getString())
            rng.clearContents(1023)
        return out

    def stop(self):
        self.calc.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

# ----------------------------------------------------------------------------- judging

# A [$-411] after a section's start, which Calc shows as the text 「-411」.
_LOCALE_AS_TEXT = re.compile(r"[^;\]]\[\$-411\]")
_KANJI_DIGITS = re.compile(r"[〇零一二三四五六七八九十百千万億兆１２３４５６７８９０壱弐参伍陸漆捌玖拾佰阡萬]")
# A digit as [DBNum1]-[DBNum3] show one (〇 and 零 zeros among them), not the words 千円 or 万円.
_DBNUM_DIGITS = re.compile(r"[〇零一二三四五六七八九十百１２３４５６７８９０壱弐参伍陸漆捌玖拾佰阡]")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d*)?|-?\.\d+")


def _has(fmt: str, pattern: str) -> bool:
    return re.search(pattern, re.sub(r'"[^"]*"|\\.', "", fmt)) is not None


def binary_rounding(value: float) -> bool:
    """Whether ``value``'s decimal digits end in a 5 (×1, ×100, ×10000): where Excel rounds its
    decimal digits half up (1.005 → 1.01, 9.995 in 0% → 1000%) and LibreOffice the binary
    value below them (1.00, 999%)."""
    return any(f"{(Decimal(repr(abs(value))) * 100 ** k).normalize():f}".endswith("5") for k in (0, 1, 2))


def bucket(value: float, fmt: str, ours: "str | None", lo: str) -> "str | None":
    """The cause of a difference between number_shown (``ours``) and Calc's text (``lo``),
    None where they agree. Known causes, each named in displayed.py's docstrings, first."""
    conditional = _has(fmt, r"\[(<|>|=)")
    if ours is None:
        # The words Calc shows besides the number: full-width digits (DBNum3) and, for a
        # negative number, a section's own sign marks (「"▲"# ?/?」) are none.
        bare = _KANJI_DIGITS.sub("", re.sub(r"[\d\s,.\-+E:/%()▲△¥$・]", "", unicodedata.normalize("NFKC", lo)))
        if not lo.strip():
            return "none: shows nothing (shown_without_digits: 「」)"
        if lo.startswith("#FMT"):
            return "LibreOffice: #FMT (a number past what its format can show)"
        # Words beside a number shown as text not made here are still read (number_read:
        # 「12000千円」 for 1.2E+4千円); only words it drops are a finding.
        read = number_read(value, fmt) or ""
        with_words = ((" with words (read with them)" if re.sub(r"[\d\s,.\-+]", "", read)
                       else " WITH WORDS (read without them)") if bare else "")
        chosen = _section_for(value, _sections(fmt))
        section = chosen[0] if chosen is not None else fmt        # the section that shows it
        if _has(section, r"[Ee][+-]|\?/|/\?|\d/\d"):
            return "none: scientific/fraction" + with_words
        if chosen is not None and re.search(r"(?i)general", chosen[0]) and _has(fmt, r"(?i)general"):
            return "none: General" + with_words
        if _has(fmt, r"@") and (chosen is None or chosen[0] == "General"):
            # a format of a text section alone shows a number as 標準 does; any other number
            # is shown by its own section (「0.00;@」: -5 shows -5.00, which hid here once)
            return "none: text section alone"
        if _has(fmt, r"(?i)mmm|ddd|AM/PM|\.0"):
            return "none: month/day names, AM/PM, fractions of a second"
        if _has(fmt, r"(?i)[ymdhsge]"):
            return "none: date before 1900-03-01 or out of range"
        if conditional:
            return "none: no section takes it (shown as 標準)"
        return "none: OTHER" + (" WITH WORDS" if bare else "")
    if ours == lo:
        return None
    if "DBNum" in fmt and _KANJI_DIGITS.search(lo):
        return "known: DBNum kanji (displayed.py shows digits)"
    if lo.startswith("#FMT") or lo.startswith("###"):
        return "LibreOffice: #FMT (a number past what its format can show)"
    if _LOCALE_AS_TEXT.search(fmt):
        return "LibreOffice: [$-411] after a section's start read as text"
    if _has(fmt, "(?i)g") and _has(fmt, "(?i)e") and abs(value) > 110000:
        return "LibreOffice: an era year past 99 (shown as its last two digits)"
    if _has(fmt, "(?i)s") and round(value * 86400) != int(value * 86400) and len(ours) == len(lo):
        return "known: Excel rounds a time to the shown second, LibreOffice cuts it"
    if _has(fmt, r"\[>0\]|\[<0\]") and value == 0:
        return "LibreOffice: [>0]/[<0] read as the plain sections (zero by the first; Excel: not measured)"
    ours, lo = ours.strip(), lo.strip()
    if ours == lo:
        return "whitespace at the ends only (number_shown strips)"
    chosen = _section_for(value, _sections(fmt))
    bare = re.sub(r'"[^"]*"|\\.|[_*].|\[[^\]]*\]', "", chosen[0]) if chosen else ""
    if re.match(r"[^0#?]*\.", bare):
        # 「"▲".#」: Calc puts the whole number's digits before the section's words (560▲約),
        # number_shown at the point (▲560.約); no source says what Excel shows.
        return "not measured: no digit holder before the point (Calc: the whole digits first)"
    if (_has(fmt, r"\.#|\.\?") and re.sub(r"\.(?!\d)", "", ours) != ours
            and re.sub(r"\.(?!\d)", "", lo) == lo):
        # Excel shows a decimal point no digit follows (「0.###」: 12.), LibreOffice does not
        # (it does where 「?」 holds the decimals' place: 「??.??」 -10.  ): judged without it,
        # and named where nothing else differs.
        if re.sub(r"\.(?!\d)", "", ours) == lo:
            return "known: Excel shows a decimal point no digit follows (「0.###」: 12.), LibreOffice does not"
        ours = re.sub(r"\.(?!\d)", "", ours)
    if binary_rounding(value) and re.sub(r"\d", "", ours) == re.sub(r"\d", "", lo):
        return "known: LibreOffice rounds the binary value (9.995 in 0%: 999%), Excel its decimal digits"
    if re.sub(r"\s+", "", ours) == re.sub(r"\s+", "", lo):
        return "spaces inside (_ or * padding)"
    if "*" in fmt and ours.replace(" ", "") == re.sub(r"(.)\1+", r"\1", lo).replace(" ", ""):
        return "fill (*) repeated by Calc"
    if conditional and value < 0 and ours.replace("-", "", 1).strip() == lo:
        return "known: Excel's minus sign in a conditional section (LibreOffice drops it)"
    if conditional and value < 0 and lo.replace("-", "", 1).strip() == ours:   # 「[<=-1]" 人"#.##」: - 人73.5
        return "known: Excel drops the minus sign where LibreOffice shows it (conditional)"
    if conditional and value < 0 and lo.startswith("-") and lo[1:] != ours and "-" + ours == lo:
        return "known: LibreOffice's minus before a conditional section's own marks"
    if conditional and ours.lstrip("-") == lo.lstrip("-"):
        return "known: minus sign, conditional (other)"
    if value < 0 and len(_sections(fmt)) > 1 and ours.lstrip("-") == lo.lstrip("-"):
        return "known: LibreOffice shows no minus sign in a section after the first"
    return "UNEXPLAINED"


# What LibreOffice shows a date or a time as: a time's or a date's separators, a Japanese date's
# words, an era's letter before its year (M32.5.16), or a number past 9999-12-31's year.
_DATE_TEXT = re.compile(r"[:/年月日]|\b[MTSHR]\d|\d+\.\d+\.\d+|\d-\D+-\d")


def hidden_problem(value: float, fmt: str, hidden: "str | None", lo: str) -> "str | None":
    """Whether shown_without_digits (``hidden``: collect holds such a number) agrees with Calc:
    no digit in Calc's text where it says the cell shows none, and a digit where Calc shows
    one of a section that has digit holders; None where it agrees."""
    # Calc reads a [$-411] after a section's start as text (「"("[$-411]#」 shows (-411), a
    # known difference (bucket): its digits are the locale's, not the number's.
    digits = (re.search(r"\d", re.sub(r"-411", "", lo) if _LOCALE_AS_TEXT.search(fmt) else lo)
              or "DBNum" in fmt and _DBNUM_DIGITS.search(lo))
    if hidden is not None:
        if not digits or value == 0:
            return None
        if hidden == "#####" and _LOCALE_AS_TEXT.search(fmt):
            return "LibreOffice: [$-411] after a section's start read as text"
        if hidden == "#####" and _DATE_TEXT.search(lo):
            # Excel has no date before serial 0 or after 9999-12-31 and shows #####;
            # LibreOffice shows one (-0.5 in h:mm: 12:00, -5 in yyyy/m/d: 1899/12/25)
            return "known: ##### in Excel, a date or time in LibreOffice (no date for the number)"
        return "hidden: UNEXPLAINED, Calc shows a digit"
    if digits or value == 0 or lo.startswith("#FMT") or not shows_digits(value, fmt) or shows_date(fmt):
        return None
    if _has(fmt, r"(?i)[Ee][+-]|\?/|/\?|\d/\d|general|@"):
        return None
    chosen = _section_for(value, _sections(fmt))
    if chosen is not None and not _has(chosen[0], r"[0#?]"):
        return None
    return "hidden: UNEXPLAINED, Calc shows no digit and it is not held"


def read_problem(value: float, fmt: str, read: str, lo: str) -> "str | None":
    """Whether number_read's text (every digit) is the shown text's words, and its number
    rounds to the shown digits; None where it agrees."""
    rn, ln = _NUMBER.findall(read), _NUMBER.findall(lo)
    if not ln and rn:
        return "read: digits where the cell shows none (0.3 in 「#\"件\"」: 件)"
    if not ln:
        return None if not rn and read.strip() == lo.strip() else "read: words differ from shown"
    if len(rn) != 1 or len(ln) != 1:
        if len(rn) == 1 and re.search(r'[0#?](?:"[^"]*"|\\.|[^0#?.,;%"\\])+[0#?]', fmt):
            # words between digit holders (「000-0000」): the cell spreads the digits among them
            # (number_shown), the number is read whole, the words after it (collect holds a
            # hyphen as a sign shown otherwise)
            return "known: words between digit holders (read whole)"
        return "read: not one number"
    # number_read keeps a minus sign with its digits (-千円5 shows 千円-5 read): words alone compared.
    r_words = _NUMBER.sub("#", read).replace(" ", "").replace("-", "")
    l_words = _NUMBER.sub("#", lo).replace(" ", "").replace("-", "")
    if r_words != l_words:
        return "read: words differ from shown"
    shown_n = Decimal(ln[0].replace(",", "").rstrip(".") or "0")
    places = -shown_n.as_tuple().exponent if isinstance(shown_n.as_tuple().exponent, int) else 0
    read_n = Decimal(rn[0].replace(",", ""))
    if read_n.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP).copy_abs() != shown_n.copy_abs():
        return "read: digits do not round to the shown ones"
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--show", type=int, default=3, help="examples printed per bucket")
    ap.add_argument("--json", help="write every difference as a JSON line here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    cases = [(draw_value(rng), draw_format(rng)) for _ in range(args.cases)]
    print(f"formats_diff: seed {args.seed}, {len(cases)} cases", flush=True)
    office = Office()
    try:
        kept = [(v, as_displayed(v, f)) for v, f in cases]
        lo = office.shown(cases)
        lo_kept = office.shown([(k, f) for (_v, f), (_vv, k) in zip(cases, kept)])
    finally:
        office.stop()
    buckets: dict[str, list] = defaultdict(list)
    refused = []
    for i, ((v, f), text, text_kept) in enumerate(zip(cases, lo, lo_kept)):
        if text is None:
            refused.append(f)
            continue
        ours = number_shown(v, f)
        b = bucket(v, f, ours, text)
        if b is not None:
            buckets[b].append({"i": i, "value": v, "format": f, "ours": ours, "libreoffice": text})
        hidden = shown_without_digits(v, f)
        h = hidden_problem(v, f, hidden, text)
        if h is not None:
            buckets[h].append({"i": i, "value": v, "format": f, "hidden": hidden, "libreoffice": text})
        read = number_read(v, f)
        if read is not None and ours is not None and ours == text and hidden is None:
            p = read_problem(v, f, read, text)
            if p is not None:
                buckets[p].append({"i": i, "value": v, "format": f, "read": read, "libreoffice": text})
        same_section = _section_for(v, _sections(f)) == _section_for(kept[i][1], _sections(f))
        quirk = binary_rounding(v) or kept[i][1] == 0 and _has(f, r"\[>0\]|\[<0\]")
        if text_kept is not None and text_kept != text and kept[i][1] != v and same_section and not quirk:
            buckets["as_displayed: the kept number shows otherwise"].append(
                {"i": i, "value": v, "format": f, "kept": kept[i][1], "libreoffice": text, "kept_shows": text_kept})
    print(f"refused by Calc: {len(refused)}", *sorted(set(refused))[:args.show], sep="\n    ")
    for name in sorted(buckets, key=lambda n: (-len(buckets[n]), n)):
        print(f"\n[{len(buckets[name])}] {name}")
        for ex in buckets[name][:args.show]:
            print("   ", json.dumps(ex, ensure_ascii=False))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            for name, rows in buckets.items():
                for row in rows:
                    fh.write(json.dumps({"bucket": name, **row}, ensure_ascii=False) + "\n")
    bad = [n for n in buckets if "UNEXPLAINED" in n or "WITH WORDS" in n or n.startswith(("read:", "as_displayed"))]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
