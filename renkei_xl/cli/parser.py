"""The command line's parser: argparse, speaking Japanese to staff.

argparse writes its own words in English (``usage:``, ``positional arguments``, "the
following arguments are required: master") through gettext, bound when argparse is
imported, and Python ships no Japanese catalogue for them. Installing one would change
the default gettext domain of the whole process (the server, the tests), so this parser
puts Japanese in the few places argparse lets a subclass speak: the usage prefix, the
group titles, the help option, and ``error()``, which receives every mistake a staff
member can make on the command line and translates its English text here.

The translation table is read only when a mistake is made: a command that parses cleanly
compiles none of its patterns (every command is a fresh process).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

USAGE_PREFIX = "使い方: "
HELP_HINT = "（{prog} --help で使い方を表示します）"


class JapaneseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, USAGE_PREFIX if prefix is None else prefix)


class JapaneseParser(argparse.ArgumentParser):
    """argparse with Japanese words; subparsers are of this class too (add_subparsers
    takes the parser's own class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", JapaneseHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        # argparse names its two default groups in English and offers no parameter for them;
        # these two attributes have held them since Python 3.2.
        self._positionals.title = "引数"
        self._optionals.title = "オプション"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="この説明を表示して終わる")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        hint = HELP_HINT.format(prog=self.prog)
        self.exit(2, f"エラー: {japanese_message(message)}{hint}\n")

    def parse_args(self, args=None, namespace=None):
        """argparse's, but an extra argument after a command is refused by that command's own
        parser, its usage and its help hint (「renkei-xl export --help」): argparse reports it
        from the top parser, which knows no command, and 「renkei-xl export m.xlsx --bogus」
        printed the usage of renkei-xl itself above the error."""
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            self._chosen(ns).error("unrecognized arguments: " + " ".join(extras))
        return ns

    def _chosen(self, ns: argparse.Namespace) -> "JapaneseParser":
        """The innermost command's parser ``ns`` was read by (renkei-xl history import: the
        import parser), this parser when no command was chosen; any depth of commands."""
        parser = self
        while True:
            commands = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
            chosen = getattr(ns, commands.dest, None) if commands is not None else None
            if chosen not in getattr(commands, "choices", {}):
                return parser
            parser = commands.choices[chosen]


def japanese_message(message: str) -> str:
    """argparse's English error text in Japanese; a text it cannot place is kept, after a
    Japanese sentence, rather than lost."""
    import re

    m = re.fullmatch(r"argument (.+?): (.*)", message, re.S)
    if m:
        return f"{m.group(1)}: {_detail(m.group(2))}"
    return _detail(message)


def _detail(message: str) -> str:
    import re

    for pattern, render in _TRANSLATIONS:
        m = re.fullmatch(pattern, message, re.S)
        if m:
            return render(*m.groups())
    if not message.isascii():   # already ours: an ArgumentTypeError of the types below
        return message
    return f"指定に誤りがあります（{message}）"


def _unquoted(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" else text


def _choices(text: str) -> str:
    return "、".join(_unquoted(c.strip()) for c in text.split(","))


def _invalid_choice(value: str, choices: str) -> str:
    import difflib

    value = _unquoted(value)
    names = [_unquoted(c.strip()) for c in choices.split(",")]
    close = difflib.get_close_matches(value, names, n=1)
    guess = f"「{close[0]}」のことでしょうか。" if close else ""
    return f"「{value}」は指定できません。{guess}指定できるもの: {'、'.join(names)}"


def _invalid_type(kind: str, value: str) -> str:
    what = {"int": "整数", "float": "数"}.get(kind, kind)
    return f"「{_unquoted(value)}」は{what}として読めません"


# argparse's messages in Python 3.10-3.13 (argparse.py, the strings passed to ``_()``).
_TRANSLATIONS = (
    (r"the following arguments are required: (.*)", lambda names: f"{names.replace(', ', '、')} を指定してください"),
    (r"unrecognized arguments: (.*)", lambda args: f"「{args}」は使えない指定です"),
    (r"invalid choice: (.*?) \(choose from (.*)\)", _invalid_choice),
    (r"invalid (\w+) value: (.*)", _invalid_type),
    (r"expected one argument", lambda: "値を 1 つ指定してください"),
    (r"expected at most one argument", lambda: "値は 1 つまでです"),
    (r"expected at least one argument", lambda: "値を 1 つ以上指定してください"),
    (r"expected (\d+) arguments?", lambda n: f"値を {n} 個指定してください"),
    (r"not allowed with argument (.*)", lambda other: f"{other} と一緒には指定できません"),
    (r"ignored explicit argument (.*)",
     lambda value: f"値「{_unquoted(value)}」は付けられません（このオプションは値を取りません）"),
    (r"one of the arguments (.*) is required", lambda names: f"{names.replace(' ', '、')} のどれかを指定してください"),
    (r"ambiguous option: (.*?) could match (.*)",
     lambda option, matches: f"「{option}」は {_choices(matches)} のどれか決められません。最後まで書いてください"),
    (r"unexpected option string: (.*)", lambda option: f"「{option}」はここには書けません"),
)


def fiscal_year(text: str) -> int:
    """--year as staff write a year (core.fiscal.staff_year, the rule a history CSV's 年度 and
    a 経年 header are read by too): 2024, ２０２４, 2024年度, 令和6年度, R6. The range is checked
    where the year is used (check_fiscal_year); a refusal here names it all the same, so 「0」
    or 「24」 learns which years are meant."""
    from ..core.contract_read import YEAR_RANGE
    from ..core.fiscal import DateParseError, staff_year

    try:
        return staff_year(text)
    except DateParseError as exc:
        lo, hi = YEAR_RANGE
        raise argparse.ArgumentTypeError(f"{exc}。対象年度は西暦の年度 {lo}～{hi} です") from None


# The forms of a date the command line shows staff, in --deadline's help and in its refusal
# (the README names the same four).
DAY_EXAMPLES = "2024-04-19、2024/4/19、令和6年4月19日、R6.4.19"


def day(text: str):
    """--deadline as staff write a date: 2024-04-19, 2024/4/19, 20240419, 令和6年4月19日, R6.4.19."""
    import datetime as dt

    from ..core.fiscal import DateParseError, parse_date

    compact = text.strip()
    if len(compact) == 8 and compact.isascii() and compact.isdigit():   # 20240419
        compact = f"{compact[:4]}-{compact[4:6]}-{compact[6:]}"
    try:
        date = parse_date(compact)
    except DateParseError as exc:
        # The reader's own examples are of dates in cells (R6.2月 has no day): a deadline's replace them.
        said = str(exc).split("（例:")[0]
        raise argparse.ArgumentTypeError(f"{said}（例: {DAY_EXAMPLES}）") from None
    if date.day is None:
        raise argparse.ArgumentTypeError(f"「{text}」には日がありません（例: 2024-04-19）")
    return dt.date(date.year, date.month, date.day)
