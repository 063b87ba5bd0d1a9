"""The 送信記録 of a 確定版: what was sent to whom, and who is still to get it.

The record is a text file staff read in Notepad, kept beside the 確定版; this module only
turns its text into attempts and back, and decides, from the attempts and the content of
the 確定版 about to be sent, whom to send it to. No file is read or written here (the
CLI does that, cycle.sendlog), so the rule can be tested on its own.

Why a rule at all: a relay that refused one mistyped address delivered to everyone else,
and the same command run again after the fix sent the list a second time to every office.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from .errors import UserError
from .values import listed

# What became of the mail for one recipient.
ACCEPTED = "受付"      # the server took it (250 to RCPT TO and to the message)
REFUSED = "拒否"       # the server refused the address (the reply is the reason)
UNKNOWN = "不明"       # cut after the message's closing dot, before the reply, or stopped while it went: it may have gone
UNSENT = "未送信"      # nothing went to it (the connection failed, the message refused, …)
STATUSES = (ACCEPTED, REFUSED, UNKNOWN, UNSENT)

# Taken as "has it" by a rerun: 不明 too, since a second copy to twelve offices is the harm
# this record exists to prevent, and --resend is there when staff learn it did not arrive.
HAS_IT = frozenset({ACCEPTED, UNKNOWN})

MAGIC = "renkei-xl 送信記録"
HEADER = (
    f"{MAGIC}\n"
    "# 確定版をメール（--smtp）で送るたびに renkei-xl が書き足す記録です。編集しないでください。\n"
    "# 同じ内容の確定版をもう一度送るときは、「受付」「不明」の宛先には送りません"
    "（もう一度送るには --resend）。\n"
    "# 受付: メールサーバーが受け付けた　拒否: アドレスが拒否された　"
    "不明: 送信の最後で接続が切れたか送信の途中で止まり、届いたか分からない　未送信: 送っていない\n"
)

_ATTEMPT = re.compile(r"■ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) 送信$")
_CONTENT = re.compile(r"[0-9a-f]{16}")


class RecordError(UserError):
    """A 送信記録 the tool cannot read: never guessed around, since a wrong guess either
    sends twice or leaves an office without the list."""


@dataclass(frozen=True)
class Recipient:
    """One recipient's line of an attempt: what became of the mail for that address."""

    status: str
    shown: str            # 「小樽市 <kikaku@city.otaru.lg.jp>」, as the mail named it
    reason: str = ""

    @property
    def key(self) -> str:
        return address_key(shown_address(self.shown))


def shown_recipient(address) -> str:
    """A recipient (an email.headerregistry.Address: ``display_name``, ``addr_spec``) as the
    record and staff see it: 「name <address>」, or the address alone where it has no name.
    The one spelling, which shown_address reads back; the send (cli.cycle) and cycle.smtp's
    outcome each wrote it themselves."""
    return f"{address.display_name} <{address.addr_spec}>" if address.display_name else address.addr_spec


def shown_address(shown: str) -> str:
    """The address of a recipient as the record shows it, read as shown_recipient writes it:
    「name <address>」 (the address holds no white space, so its 「 <」 is the last), or the
    address alone. Not with a mail parser: a name as staff type it, 「Yamada, Taro」 (as
    Outlook shows names), 「企画課(政策」 or 「O"Neil」, is no RFC 5322 phrase, and the record
    the tool had just written was refused as unreadable on the next run, every later send
    stopped until staff edited it or renamed it away (and then it went to everyone)."""
    shown = shown.strip()
    if shown.endswith(">") and " <" in shown:
        return shown[shown.rindex(" <") + 2:-1]
    return shown


@dataclass(frozen=True)
class Attempt:
    when: str             # 2026-12-04 21:30:12, local time as staff read it
    book: str             # the 確定版's file name
    content: str          # the 確定版's content digest (package.zipped.book_digest), 16 hex
    server: str
    entries: tuple[Recipient, ...] = ()
    note: str = ""        # what the command said, one line
    attached: tuple[str, ...] = ()   # the files the mail carried; () in a record written before they were kept

    @property
    def kinds(self) -> Optional[frozenset[str]]:
        """The kinds of file the mail carried (「.xlsx」「.pdf」), or None where not recorded."""
        return frozenset(attached_kinds(self.attached)) if self.attached else None


def attached_kinds(names: Iterable[str]) -> set[str]:
    """The kinds of file (their suffixes, in lower case) of the attachments ``names``."""
    return {name[name.rfind("."):].lower() for name in names if "." in name}


def address_key(addr_spec: str) -> str:
    """One mailbox, however its case was typed: municipal mail servers do not tell
    Kikaku@ from kikaku@, and a 設定 cell retyped with a capital must not send again."""
    return addr_spec.strip().lower()


# ------------------------------------------------------------------ the decision

@dataclass(frozen=True)
class Decision:
    send: tuple[str, ...]                       # addr_specs to send to, in the mail's order
    had: tuple[tuple[str, str], ...] = ()       # (addr_spec, 受付 / 不明) left out
    new_version: bool = False                   # sent before, but never this content
    resend: bool = False
    added: tuple[str, ...] = ()                 # kinds of file now attached that those sent this content lacked


def decide(attempts: Sequence[Attempt], content: str, recipients: Sequence[str], *,
           resend: bool = False, attached: Iterable[str] = ()) -> Decision:
    """Whom the 確定版 of ``content`` goes to: every recipient that has not yet got this
    content (受付, or 不明), all of them with ``resend``. A recipient's latest word for this
    content counts: 受付 then a --resend cut before its dot is still 受付, so the latest
    status that says "has it" wins over a later 未送信 or 拒否. ``attached``: the files the
    mail carries now; a send of this content that carried fewer kinds (the 確定版 sent
    without --pdf, then with it) gave them not all of it: the PDF was said 送信済み and never went."""
    had: dict[str, str] = {}
    wanted = attached_kinds(attached)
    short: set[str] = set()
    for attempt in attempts:
        if attempt.content != content:
            continue
        if attempt.kinds is not None and not wanted <= attempt.kinds:
            short |= wanted - attempt.kinds
            continue
        for entry in attempt.entries:
            if entry.status in HAS_IT:
                # 受付 outranks 不明: once a server said it took the mail, it took it.
                if had.get(entry.key) != ACCEPTED:
                    had[entry.key] = entry.status
    sent_before = any(a.content != content and any(e.status in HAS_IT for e in a.entries) for a in attempts)
    new_version = sent_before and not had and not short
    added = tuple(sorted(short))
    if resend:
        return Decision(tuple(recipients), (), new_version, True, added)
    send = tuple(r for r in recipients if address_key(r) not in had)
    left = tuple((r, had[address_key(r)]) for r in recipients if address_key(r) in had)
    return Decision(send, left, new_version, added=added if send else ())


# ------------------------------------------------------------------ the text

def format_attempt(attempt: Attempt) -> str:
    lines = ["", f"■ {attempt.when} 送信",
             f"確定版: {_one_line(attempt.book)}",
             f"内容: {attempt.content}",
             f"メールサーバー: {_one_line(attempt.server)}"]
    if attempt.attached:
        lines.append(f"添付: {ATTACHED_SEP.join(_one_line(name) for name in attempt.attached)}")
    for entry in attempt.entries:
        tail = f"\t{_one_line(entry.reason)}" if entry.reason else ""
        lines.append(f"{entry.status}\t{_one_line(entry.shown)}{tail}")
    if attempt.note:
        lines.append(f"メモ: {_one_line(attempt.note)}")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """A server's reply or a file name on one line: a newline or tab would start a line
    the reader takes for an entry."""
    return " ".join(str(text).replace("\t", " ").split())


def parse(text: str, name: str) -> list[Attempt]:
    """The attempts of a record written by format_attempt after HEADER; ``name`` is how
    a refusal names the file. Lines starting with # and blank lines are skipped."""
    lines = text.splitlines()
    if not lines or lines[0].lstrip("\ufeff").strip() != MAGIC:
        raise RecordError(f"「{name}」は renkei-xl の送信記録ではありません（1 行目が「{MAGIC}」ではありません）。"
                          "メールは送信していません。このファイルを別の名前に変えるか別のフォルダーに移してから、"
                          "もう一度実行してください（そのときは全員に送ります）")
    attempts: list[Attempt] = []
    current: Optional[dict] = None
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        if found := _ATTEMPT.fullmatch(line):
            if current is not None:
                attempts.append(_finished(current, name, number))
            current = {"when": found.group(1), "entries": [], "start": number}
            continue
        if current is None:
            raise _damaged(name, number, line)
        key, sep, value = line.partition(": ")
        if sep and key in ("確定版", "内容", "メールサーバー", "メモ", "添付"):
            if key == "内容" and not _CONTENT.fullmatch(value):
                raise _damaged(name, number, line)
            current[key] = value
            continue
        status, *rest = line.split("\t")
        if status not in STATUSES or not 1 <= len(rest) <= 2 or "@" not in shown_address(rest[0]):
            raise _damaged(name, number, line)
        current["entries"].append(Recipient(status, rest[0], rest[1] if len(rest) > 1 else ""))
    if current is not None:
        attempts.append(_finished(current, name, len(lines)))
    return attempts


def _finished(current: dict, name: str, number: int) -> Attempt:
    if "内容" not in current:
        raise RecordError(f"送信記録「{name}」の {current['start']} 行目からの記録に「内容: 」の行がありません。"
                          + _HOW_TO_GO_ON)
    attached = tuple(current["添付"].split(ATTACHED_SEP)) if current.get("添付") else ()
    return Attempt(current["when"], current.get("確定版", ""), current["内容"], current.get("メールサーバー", ""),
                   tuple(current["entries"]), current.get("メモ", ""), attached)


# Between the names on the 「添付: 」 line: no file name holds 「/」 (Windows' or POSIX's).
ATTACHED_SEP = " / "


_HOW_TO_GO_ON = ("メールは送信していません。送信記録は renkei-xl が書くファイルで、書き換えると誰に送ったか分からなくなります。"
                 "書き換えたところを元に戻すか、ファイルを別の名前に変えてから、もう一度実行してください"
                 "（名前を変えたときは全員に送ります）")


def _damaged(name: str, number: int, line: str) -> RecordError:
    shown = line if len(line) <= 60 else line[:60] + "…"
    return RecordError(f"送信記録「{name}」の {number} 行目「{shown}」が読めません。" + _HOW_TO_GO_ON)


def had_lines(decision: Decision, shown: dict[str, str]) -> Iterable[str]:
    """What the command says of those left out, each as the mail names it (``shown``)."""
    accepted = [shown.get(a, a) for a, status in decision.had if status == ACCEPTED]
    unknown = [shown.get(a, a) for a, status in decision.had if status == UNKNOWN]
    if accepted:
        yield f"{listed(accepted)} には送信済みのため送りません（もう一度送るには --resend）。"
    if unknown:
        yield (f"{listed(unknown)} には前回、送信の最後で接続が切れたか送信の途中で止まり、届いたか分かりません。"
               "送信済みとして扱い、送りません（届いていなければ --resend --to アドレス で送ってください）。")


def why_again(decision: Decision) -> Iterable[str]:
    """Why those sent this content before get it again: a new version, or files it now carries."""
    if decision.new_version:
        yield "確定版の内容が前に送ったものと違う（新しい版の）ため、全員に送ります。"
    if decision.added:
        kinds = "・".join(kind.lstrip(".").upper() for kind in decision.added)
        yield f"前に送った同じ内容の確定版には {kinds} を添付していなかったため、{kinds} を添えて送ります。"
