"""What a mail of the yearly cycle is: the message, its addresses and attachments, and the
.eml draft Outlook opens as unsent. How it travels is cycle.smtp.

Standard library on purpose: ``email`` already implements RFC 5322, 2045-2047 and 2231.
What is added on top is only what Japanese municipal mail needs and the library does not
do by default: a 7-bit safe body, an RFC 2047 ``name=`` fallback for attachment names, a
refusal of macro workbooks, and Japanese messages for bad addresses.
"""

from __future__ import annotations

import datetime as _dt
import email.policy
import mimetypes
import re
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from renkei_xl.clock import japan, now
from renkei_xl.core.errors import UserError

# The SMTP policy: CRLF line endings (RFC 5322's only line ending, the form Outlook on
# Windows reads; Thunderbird reads CRLF and LF alike) and headers folded at 78.
# refold_source="none" leaves headers stored as raw text exactly as written: the
# hand-folded attachment ``name=`` below, and the headers of an embedded .eml. Headers
# set through the API are still folded by the policy.
POLICY = email.policy.SMTP.clone(refold_source="none")

# Fixed table rather than mimetypes alone: on Windows ``mimetypes`` reads the registry,
# where installed software sometimes maps .xlsx or .csv to odd types, and the type
# decides how Outlook and the LGWAN gateways treat an attachment.
MIME_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".zip": "application/zip",
    ".eml": "message/rfc822",
}

# Workbook formats that can carry macros. LGWAN 無害化 gateways strip macros or whole
# attachments, so every file the tool emails is a macro-free .xlsx.
MACRO_SUFFIXES = frozenset({".xlsm", ".xltm", ".xlam", ".xlsb", ".xls"})

# Width of a folded header line. RFC 5322 recommends 78 characters; the policy
# enforces the same width for the headers it folds itself.
_MAX_HEADER_LINE = 78


# --- building ---------------------------------------------------------------------

def has_line_break(text: str) -> bool:
    """Whether ``text`` holds a line break anywhere, as the email package counts them
    (str.splitlines: LF and CR, and VT, FF, U+001C-U+001E, U+0085, U+2028, U+2029). Its
    policy refuses a header holding one with a ValueError in English: a subject checked
    for LF and CR alone stopped export --smtp with 「予期しないエラー」 on a 圏域名 ending in
    U+0085, and 「len(text.splitlines()) > 1」 misses a break at the end, which the subject
    template puts mid-line (「【…\u2028】…」)."""
    return first_line_break(text) is not None


def first_line_break(text: str) -> Optional[int]:
    """The index of the first character of ``text`` that str.splitlines breaks at, or None.
    A message names it by place and code point: U+0085 or U+2028 shows as nothing."""
    lines = text.splitlines()
    return None if not lines or lines[0] == text else len(lines[0])


def attachment_name_problem(name: str) -> str:
    """Why a file named ``name`` cannot be attached ("" when it can): a line break in the name
    (has_line_break: LF, CR, and U+0085, U+2028 and the others, which Windows allows in a
    file name), which the email package's policy refuses in the attachment's header with an
    English ValueError. Names the tool makes are cleaned (core.filenames.safe_file_name);
    this is the name staff give (export -o), said before the file is written: export --eml
    wrote 「a\nb.xlsx」 and then stopped with 「予期しないエラー」."""
    at = first_line_break(name)
    if at is None:
        return ""
    from renkei_xl.core.filenames import visible

    ch = name[at]
    # 「もう一度実行」 here and in save_draft: only the command line mails (--eml, send), no button
    what = "改行" if ch in "\r\n" else f"改行にあたる見えない文字 U+{ord(ch):04X} "
    return (f"ファイル名「{visible(name)}」の{at + 1}文字目に{what}が入っています。メールに添付するファイルの名前には"
            "使えないため、改行のない名前を指定してから、もう一度実行してください。何も書き込んでいません")


def build_message(*, sender: str, to: Sequence[str], subject: str, body: str,
                  attachments: Sequence[Union[Path, str]] = (), cc: Sequence[str] = (),
                  draft: bool = True,
                  date: Optional[_dt.datetime] = None) -> EmailMessage:
    """One message that passes old LGWAN gateways unchanged: every line 7-bit and short.

    A draft carries ``X-Unsent: 1`` so that Outlook opens the saved .eml as a new,
    editable message with the attachments in place. Other clients may ignore the
    header and show a received message (Thunderbird: "Edit as New Message").
    """
    if has_line_break(subject):
        raise UserError("メールの件名に改行を含めることはできません。")
    if not subject.strip():
        raise UserError("メールの件名が空です。")
    from_addr = parse_addresses([sender], "差出人")
    if len(from_addr) != 1:
        raise UserError(f"差出人のメールアドレスは1つだけ指定してください（{sender}）。")
    to_addrs = _distinct(parse_addresses(to, "宛先"), set())
    if not to_addrs:
        raise UserError("メールの宛先（To）がありません。設定シートのメールアドレスを確認してください。")
    cc_addrs = _distinct(parse_addresses(cc, "CC"), {mailbox(a) for a in to_addrs})

    msg = EmailMessage(policy=POLICY)
    _set_addresses(msg, "From", from_addr)
    _set_addresses(msg, "To", to_addrs)
    if cc_addrs:
        _set_addresses(msg, "Cc", cc_addrs)
    msg["Subject"] = subject
    # A naive time is the tool's, Japan time (clock), whatever zone the machine keeps: the
    # header says +0900 as staff's own mail does, the same instant on any machine.
    msg["Date"] = format_datetime(japan(date if date is not None else now()))
    # The sender's domain, not socket.getfqdn(): that may wait on DNS and would put
    # the office PC's host name into every message.
    msg["Message-ID"] = make_msgid(domain=from_addr[0].domain)
    if draft:
        msg["X-Unsent"] = "1"

    # Body: UTF-8 in base64, not 8bit and not quoted-printable. Old municipal gateways
    # (LGWAN) and relays may not pass 8-bit data or long lines; base64 keeps every line
    # at 76 ASCII characters. Quoted-printable would turn each byte of a Japanese
    # character into "=XX" (9 characters per kanji), three times the size of base64
    # and no more readable. Lines are joined with CRLF before encoding, the canonical
    # form of text/plain (RFC 2046 §4.1.1).
    msg.set_content(body, charset="utf-8", cte="base64")

    for item in attachments:
        _attach(msg, Path(item))
    return msg


# Names no mail is ever delivered to: reserved for examples and tests by RFC 2606 (.example,
# .invalid, .test, .localhost, example.com/.net/.org) and RFC 6761 §6. The sample master's
# contacts are of these (renkei@otaru.example): a draft to them went out unsaid, and --smtp
# tried to send to them.
RESERVED_TLDS = frozenset({"example", "invalid", "test", "localhost"})
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_SHOWN = ".example・.test・.invalid・.localhost・example.com など"


def reserved_domain(address: Address) -> bool:
    """Whether ``address`` is under a name reserved for examples (RESERVED_TLDS, RESERVED_DOMAINS)."""
    domain = address.domain.lower().rstrip(".")
    return (domain.rsplit(".", 1)[-1] in RESERVED_TLDS
            or any(domain == d or domain.endswith("." + d) for d in RESERVED_DOMAINS))


def mailbox(address: Address) -> str:
    """The mailbox an address delivers to, for telling two spellings of one apart: the domain
    is case-blind (RFC 5321 2.4); the local part is left as typed, as the mail server may read it."""
    return f"{address.username}@{address.domain.lower()}"


def _distinct(addresses: Sequence[Address], seen: set[str]) -> list[Address]:
    """Each mailbox once, as first named, none of ``seen``: a cell of 設定 holding one address
    twice, two municipalities sharing an office's address for 確定版, or a CC already in To
    put the mailbox twice in To (and in the server's recipients), and some mail servers
    deliver a copy for each."""
    out = []
    for address in addresses:
        if (box := mailbox(address)) not in seen:
            seen.add(box)
            out.append(address)
    return out


def _set_addresses(msg: EmailMessage, field: str, addresses: Sequence[Address]) -> None:
    """Each address folded alone by the policy, one to a line, the separating commas written
    here. Python before 3.11.9/3.12.3 (CPython issue 100884) folded a list whose line had to
    break after an encoded name into 「=?utf-8?q?=2C?=」: the comma became part of a name, and
    the next municipality's address vanished from the To that Outlook shows and that a reply
    to all uses, while the server still sent it the mail. An address alone has no comma to
    lose; the folded pieces are stored raw (POLICY keeps them as written)."""
    msg.set_raw(field, ",\n ".join(_piece(field, address) for address in addresses))


def _piece(field: str, address: Address, role: str = "") -> str:
    """``address`` as it is written in ``field``: folded by the policy where that reads back
    as typed, else on one line (_unfolded). Asked once more when a cell is parsed, with the
    cell's ``role``, so that a name no mail can carry is refused naming whose it is.

    Kept per address (``_folded``): the email package folds and parses it again in Python
    for each, about 1.5 ms, and every command that reads 設定's addresses (split --eml,
    export's letters, each mail sent) asks it of the same twelve municipalities."""
    return _folded(field, address.display_name, address.username, address.domain, role)


@lru_cache(maxsize=1024)
def _folded(field: str, display_name: str, username: str, domain: str, role: str) -> str:
    """_piece of the address made of these parts (an Address is its three parts: one made
    of them again is the same address; a refusal is raised again each time, not kept)."""
    address = Address(display_name=display_name, username=username, domain=domain)
    folded = POLICY.header_factory(field, [address]).fold(policy=POLICY)
    piece = folded[len(field) + 1:].strip()
    if _read_back(field, piece) != (_SPACES.sub("", address.display_name), address.addr_spec):
        piece = _unfolded(field, address, role)
    return piece


def _read_back(field: str, piece: str) -> tuple[str, str]:
    """(name without its spaces, address) of a folded piece as a reader unfolds and parses it
    (RFC 5322 2.2.3). Spaces aside: the library reads the space between two encoded words of
    a long Japanese name into it (「山 田」), which RFC 2047 6.2 and mail readers drop.
    A piece the library's own parser cannot read back reads as nothing: a long name starting
    with 「.」, folded, raised AttributeError inside the email package (「'str' object has no
    attribute 'token_type'」) and stopped split --eml with 予期しないエラー."""
    try:
        found = POLICY.header_factory(field, re.sub(r"\r?\n(?=[ \t])", "", piece)).addresses
    except Exception:   # the parser's own failure (any kind): the piece is not read back
        return ("", "")
    return (_SPACES.sub("", found[0].display_name), found[0].addr_spec) if len(found) == 1 else ("", "")


_SPACES = re.compile(r"\s+")


# RFC 5322 2.1.1: a line of a header is at most 998 characters.
_LINE_MAX = 998


def _unfolded(field: str, address: Address, role: str = "") -> str:
    """An address on one line, where the policy's folding changed it: a quoted name in ASCII
    longer than a line lost its quotes (「"xxx…*;" <a.b59@…>」 was written 「xxx…*;」 and read
    back as no address, the mail's only recipient gone). Past a line's 998 characters it is
    refused rather than sent to a reader who cannot parse it. So is a name that, written as
    typed, reads back as another name or none: 「=?utf-8?b?QQ==?=」 typed in it is decoded
    to 「A」, and a line separator (U+2028) in it was written raw and became a line break
    that ended the To header, the draft's recipient and every header after it lost."""
    text = str(address)
    whose = f"{role}の" if role else ""
    if len(field) + 2 + len(text) + 1 > _LINE_MAX:
        raise UserError(f"{whose}メールアドレス「{address.addr_spec}」の名前が長すぎて、メールに書けません"
                        f"（{len(address.display_name):,} 文字）。名前を短くしてください。")
    if _read_back(field, text) != (_SPACES.sub("", address.display_name), address.addr_spec):
        raise UserError(f"{whose}メールアドレス「{address.addr_spec}」の名前「{address.display_name[:40]}」は、"
                        "そのままではメールに正しく書けません（「=?」で始まる形や改行にあたる文字が入っています）。"
                        "名前を直してください。")
    return text


# Said of a cell of 設定 only: --from takes one address, and --to takes one an argument.
_SEVERAL_IN_A_CELL = "1つのセルに複数のアドレスを書くときは、半角の「,」か「;」か、セル内の改行で区切ってください。"


def parse_addresses(values: Sequence[Union[str, Address]], role: str) -> list[Address]:
    """Parse addresses as typed in 設定, catching what Excel users typically get wrong.

    A full-width ＠ or a space copied from a document makes a syntactically valid but
    undeliverable address; refusing it here names the bad entry instead of an SMTP
    bounce days later. ``role`` opens the message: whose address it is (「宛先」, or
    「シート「設定」の小樽市」 for a municipality's cell). An ``Address`` is taken as it is.
    """
    if isinstance(values, str):
        values = [values]
    result = []
    for raw in values:
        if isinstance(raw, Address):
            result.append(raw)
            continue
        raw = (raw or "").strip()
        for entry in _entries(raw):
            display_name, addr_spec = _one_address(entry)
            if not _plausible_addr_spec(addr_spec):
                # The hint looks at the address, not at the name before it, which may be Japanese.
                start = max(raw.find(addr_spec), 0) if addr_spec else 0
                hint = _not_an_address(addr_spec) or (_odd_char(raw, addr_spec, start) + "。"
                                                      "全角文字（＠ ． など）や空白が入っていないか確認してください。")
                raise UserError(f"{role}のメールアドレス「{_quoted(raw)}」が正しくありません{hint}"
                                + (_SEVERAL_IN_A_CELL if role.startswith("シート") else ""))
            local, _, domain = addr_spec.rpartition("@")
            try:
                address = Address(display_name=display_name, username=local, domain=domain)
            except (ValueError, IndexError) as exc:
                raise UserError(f"{role}のメールアドレス「{_quoted(raw)}」が正しくありません。") from exc
            _piece("From", address, role)    # the longest field an address goes in: fits To and Cc too
            result.append(address)
    return result


# The longest cell of addresses quoted whole in a refusal: a few addresses of RFC 5321's
# 254 characters. A cell is quoted as typed (an invisible character in it, which the hint
# points at by its place, included), but a 32,767-character text pasted into 設定's cell was
# copied into the refusal whole (qa-132): past this it is cut as values.shown cuts a text.
QUOTED_CHARS = 1_000


def _quoted(raw: str) -> str:
    """A cell of addresses as a refusal quotes it: as typed, or cut past QUOTED_CHARS."""
    from renkei_xl.core.values import shown

    return raw if len(raw) <= QUOTED_CHARS else shown(raw, QUOTED_CHARS)


# What staff type for 「@」: the ASCII sign, and the full-width ＠ (and small ﹫) an IME gives.
# An entry holding one is an address however it is typed, so it ends at a separator and a
# name holding one hides an address: 「kikaku＠otaru.example」 on a line (or before a 「,」)
# above 「山田 <b@y.jp>」 became 山田's name, and the draft went to b@y.jp alone, in silence.
_AT_SIGNS = re.compile("[@\uff20\ufe6b]")


def _entries(raw: str) -> list[str]:
    """A cell's addresses, split at 「,」 or 「;」 (Outlook's separator, where staff copy them
    from) only once an address has come and outside quotes and <…>: a name holding a comma
    (「札幌市 企画課, 山田 <…>」, 「Yamada, Taro <…>」, as Outlook shows such names) was cut
    into a name alone, refused as an address whose first character 「札」 could not be used.
    A comma after nothing but a name can be no separator: each entry must hold one (an 「@」 of
    any width, _AT_SIGNS). A line break (Alt+Enter) after an address separates as a comma does: 「a@x.jp」 and 「山田 <b@y.jp>」
    on two lines of a cell made one entry whose name held the first address, sent nowhere; a
    line that opens with 「(」 is a comment on the address above (「a@x.jp」 then 「(企画課)」).
    Quotes count only when they pair up (「山田"太郎 <…>」 has a quote in the name)."""
    quoting_on = raw.count('"') % 2 == 0
    comment = _comment_after(raw) if "(" in raw else None
    entries, current, quoted, bracket = [], "", False, False
    has_at, blank = False, True     # of current: asked at each separator, kept as it grows
    for at, ch in enumerate(raw):
        if ch == '"' and quoting_on:
            quoted = not quoted
        elif not quoted and ch in "<>":
            bracket = ch == "<"
        elif ch in ",;\r\n" and not quoted and not bracket and (has_at or blank) \
                and not (ch in "\r\n" and comment is not None and comment[at + 1]):
            entries.append(current)
            current, has_at, blank = "", False, True
            continue
        current += ch
        has_at = has_at or _AT_SIGNS.match(ch) is not None
        blank = blank and ch.isspace()
    entries.append(current)
    return [e.strip() for e in entries if e.strip()]


def _comment_after(raw: str) -> list[bool]:
    """For each place of ``raw`` (and its end), whether the text from there opens with 「(」
    past white space, read once from the end: asked of the rest at each line break, and
    of the entry so far at each separator, a cell of 32,767 characters took 0.8 s."""
    opens, after = [False] * (len(raw) + 1), False
    for at in range(len(raw) - 1, -1, -1):
        if not raw[at].isspace():
            after = raw[at] == "("
        opens[at] = after
    return opens


def _one_space(run: "re.Match[str]") -> str:
    """A run of white space in a name, one space if it breaks a line (or holds a tab). Each
    run is read once: a pattern of spaces around the break tried every place in a run of
    spaces, 6 s for a name padded to 32,767 characters (test_pattern_costs)."""
    return " " if any(ch in "\r\n\t" for ch in run.group()) else run.group()


def _one_address(entry: str) -> tuple[str, str]:
    """(display name, address) of one entry: 「name <address>」 with the name as typed (a
    comma or a quote in it, which the email library reads as more than one address or none,
    or 「企画"政策"室」 as 「企画 政策 室」), else the address as the library reads it."""
    named = _named(entry)
    if named is not None:
        name = _SPACES.sub(_one_space, named[0].strip())   # a line break in the cell (Alt+Enter)
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = re.sub(r'\\(.)', r"\1", name[1:-1])
        elif _AT_SIGNS.search(name) and name.strip("'").lower() != named[1].strip().lower():
            # 「a@x.jp 山田 <b@y.jp>」: an address in the name would be sent nowhere. Outlook's
            # 「'a@x.jp' <a@x.jp>」 (a recipient named by the address) names the one it is sent to.
            return "", entry
        return name, named[1].strip()
    try:
        found = getaddresses([entry])
    except RecursionError:      # each 「(」 a comment one level deeper: read as no address, as an unclosed one is
        found = [("", "")]
    if len(found) != 1:
        return "", entry
    name, addr_spec = found[0]
    # Taken only where the library read what was typed: the address alone, or the address and
    # a comment after it (「kikaku@otaru.example (企画課)」). Else it had repaired the entry into
    # another address: 「kikaku@otaru.exa(mple」 became kikaku@otaru.exa with 「mple」 a name, an
    # unclosed 「[127.0.0.1」 was closed for it. The entry whole is then the address, refused.
    # Comments may stand before it and nest (「(企画課) a@x.jp」, 「a@x.jp (企画(政策)課)」), as
    # RFC 5322 3.2.2 allows and as the library read them before this check; only closed ones.
    at = entry.find(addr_spec) if addr_spec else -1
    if at >= 0 and _only_comments(entry[:at]) and _only_comments(entry[at + len(addr_spec):]):
        return name, addr_spec
    return "", entry


def _only_comments(text: str) -> bool:
    """Whether ``text`` is white space and closed comments alone (nested, or with 「\\」 quoting
    a character, RFC 5322 3.2.2); hand-written as the email library reads an unclosed one by
    closing it for us, which is the repair this refuses."""
    depth, escaped = 0, False
    for ch in text:
        if escaped:
            escaped = False
        elif depth and ch == "\\":
            escaped = True
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth and not ch.isspace():
            return False
    return depth == 0 and not escaped


def _named(entry: str) -> Optional[tuple[str, str]]:
    """(name, address) of an entry that ends in 「<address>」, the name holding no 「<」「>」 unless quoted,
    or None. Found from the last 「<」, not with a pattern that tries every place a name could
    end: a cell of 32,767 spaces took a second, and 設定 holds a cell per municipality."""
    lt = entry.rfind("<")
    if lt < 0 or not entry.endswith(">") or ">" in entry[lt + 1:-1]:
        return None
    name = entry[:lt]
    quoted = name.strip()
    if len(quoted) >= 2 and quoted[0] == quoted[-1] == '"' and '"' not in quoted[1:-1].replace('\\"', ""):
        # A quoted name may hold 「<」「>」 (「"企画課 <代表>" <kikaku@…>」, as Outlook quotes it): refused
        # before as an address with 「6文字目に空白」, a hint at nothing wrong.
        return name, entry[lt + 1:-1]
    return None if "<" in name or ">" in name else (name, entry[lt + 1:-1])


def _not_an_address(addr_spec: str) -> str:
    """What is wrong, when it is not a stray character: a name alone (Outlook's 「札幌市 企画課」
    copied without its address), a Japanese domain name (IDN, 「info@札幌市.jp」), or Japanese
    before the 「@」 (which needs SMTPUTF8 of every server on the way). All three were told
    「1文字目の「札」は使えません。全角文字（＠ ． など）や空白が入っていないか確認」, which says
    nothing a staff member can act on. "" for the other cases."""
    import unicodedata

    def japanese(text: str) -> bool:   # a letter that is no full-width form of an ASCII one
        return any(not unicodedata.normalize("NFKC", ch).isascii() and ch.isalpha() for ch in text)

    if not _AT_SIGNS.search(addr_spec):
        return ("（名前だけで、メールアドレスがありません）。「名前 <kikaku@city.example.lg.jp>」のように、"
                "@ を含むアドレスを書いてください。")
    local, at, domain = addr_spec.rpartition("@")
    if at and japanese(local) and not japanese(domain):
        return ("（@ の前に日本語が入っています）。このようなアドレスは、多くのメールサーバーが受け付けないため"
                "送れません。半角英数字のアドレスを相手に確認してください。")
    if at and _plausible_addr_spec(f"{local}@x.jp") and japanese(domain):
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
        if _HOST.fullmatch(ascii_domain):
            # Suggested, not used in its place: a full-width 「．」 in it is read as a dot by the
            # IDNA codec, and what goes out is what staff wrote in 設定 and can see there.
            return (f"（日本語のドメイン名です）。メールでは、日本語のドメイン名は「xn--」で始まる形で書きます。"
                    f"「{local}@{ascii_domain}」と書いてください。")
    return ""


def _odd_char(raw: str, part: Optional[str] = None, start: int = 0) -> str:
    """The first character an address cannot hold, pointed at by its place in the cell
    ``raw``: a zero-width space copied from a web page, or a no-break space, shows nothing in
    the message or in the cell. ``part`` (at ``start`` in ``raw``) is the address looked in."""
    import unicodedata

    part = raw if part is None else part
    for number, ch in enumerate(part, start=start + 1):
        if ch.isascii() and ch.isprintable() and ch != " ":
            continue
        if ch.isspace():
            return f"（{number}文字目に空白 U+{ord(ch):04X} があります）"
        if not ch.isprintable() or unicodedata.category(ch) in ("Cf", "Mn"):
            return f"（{number}文字目に見えない文字 U+{ord(ch):04X} があります）"
        return f"（{number}文字目の「{ch}」は使えません）"
    return ""


def _plausible_addr_spec(addr_spec: str) -> bool:
    if not addr_spec.isascii() or any(c.isspace() for c in addr_spec):
        return False
    local, at, domain = addr_spec.rpartition("@")
    if not at or not local or "@" in local:
        return False
    # The local part a dot-atom (RFC 5322 §3.4.1) unless quoted, the domain host names' letters,
    # digits and hyphens or a literal: 「a..b@」 and a stray 「>」 typed after the address
    # (「kikaku@otaru.example>」) went into the mail as a To no reader could parse, and the
    # relay refused or bounced them instead of this naming the cell.
    if not (local.startswith('"') or _DOT_ATOM.fullmatch(local)):
        return False
    return bool(_HOST.fullmatch(domain)) or _literal(domain)


def _literal(domain: str) -> bool:
    """An address literal a relay can deliver to (RFC 5321 §4.1.3): 「[999.0.0.1]」 was sent."""
    import ipaddress

    if not (domain.startswith("[") and domain.endswith("]")):
        return False
    inner = domain[1:-1]
    try:
        if inner[:5].lower() == "ipv6:":
            ipaddress.IPv6Address(inner[5:])
        else:
            ipaddress.IPv4Address(inner)
    except ValueError:
        return False
    return True


_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# Host name labels (RFC 1123 §2.1): 1 to 63 letters, digits and hyphens, no hyphen at either
# end: 「kikaku@-otaru.example」 and a label of 64 characters went into the mail and bounced.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")


def _attach(msg: EmailMessage, path: Path) -> None:
    if problem := attachment_name_problem(path.name):
        raise UserError(problem)
    suffix = path.suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise UserError(f"「{path.name}」はマクロを含められる形式のため添付できません。"
                        "自治体のメールゲートウェイで削除されるため、マクロなしの .xlsx で書き出してください。")
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UserError(f"添付ファイル「{path}」が見つかりません。") from exc
    except OSError as exc:
        from ..safety import system_reason

        raise UserError(f"添付ファイル「{path}」を読み込めません（{system_reason(exc)}）。") from exc

    mime = MIME_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    maintype, subtype = mime.split("/", 1)
    if mime == "message/rfc822":
        # RFC 2046 §5.2.1 forbids base64 for message/rfc822: the mail is embedded as a
        # message (Outlook and Thunderbird show it as an attached mail), 7bit when it is.
        inner = email.message_from_bytes(data, policy=POLICY)
        msg.add_attachment(inner, filename=path.name, cte="7bit" if data.isascii() else "8bit")
    else:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    part = list(msg.iter_attachments())[-1]
    _add_name_fallback(part, path.name)


def _add_name_fallback(part: EmailMessage, filename: str) -> None:
    """Repeat the file name as ``name=`` on Content-Type, RFC 2047-encoded for non-ASCII.

    ``filename*=utf-8''…`` (RFC 2231, written by EmailMessage) is the standard, but old
    Outlook versions and Japanese mailers read the de-facto ``name="=?UTF-8?B?…?="``
    instead and otherwise show ATT00001.dat. Thunderbird writes the same pair.

    Hand-folded because the policy's own folder would turn a long ``name=`` back into
    RFC 2231 continuations (``name*0*=``), which is exactly what these clients cannot
    read; a raw header is written as it is under POLICY (refold_source="none"). Its
    first line holds the media type, which cannot be broken: 80 characters for .xlsx,
    over the recommended 78 but far below the 998 limit.
    """
    if filename.isascii():
        part.set_param("name", filename, header="Content-Type")
        return
    ctype = part.get_content_type()
    prefix = ' name="'
    # Each encoded-word on its own continuation line; Header splits on character
    # boundaries, so no word ends in half a UTF-8 sequence.
    words = Header(filename, "utf-8").encode(
        maxlinelen=_MAX_HEADER_LINE - len(prefix) - 2, splitchars="", linesep="\n").split()
    value = f"{ctype};\n{prefix}" + "\n ".join(words) + '"'
    del part["Content-Type"]
    # set_raw stores the header as written, as the parser does for a received mail.
    part.set_raw("Content-Type", value)


# --- drafts -----------------------------------------------------------------------

def save_draft(msg: EmailMessage, path: Union[Path, str], *,
               kept: Optional[Callable[[Path], None]] = None) -> Path:
    """Write the .eml so that a reader never sees half a file and an old draft survives a
    crash: CRLF line endings (RFC 5322), through the tool's one safe write. A draft
    already there that says something else (another deadline, addresses or words staff
    changed) is kept in its backup folder first, and ``kept`` told where, for the faces
    to name; one that differs only in what every draft makes anew is replaced quietly."""
    from ..safety import refused_remedy, refused_why, safe_write

    target = Path(path)
    data = msg.as_bytes(policy=POLICY)
    # Said by what refused (refused_why, refused_remedy read the errno): 「Outlook で開いて
    # いれば閉じて」 was said of every refusal, a draft the account may not read on a Linux
    # share and a read-only volume included, where nothing holds the file.
    doing = "読む"         # the draft there is read first: whether it says something else
    try:
        keep = target.is_file() and not same_draft(target.read_bytes(), msg)
        doing = "書き込む"
        saved = safe_write(target, lambda tmp: tmp.write_bytes(data), keep_backup=keep, lock=False)
    except OSError as exc:
        rights = ("ファイルとフォルダーのアクセス権を確かめるか、その下書きの名前を変えてから、もう一度実行してください"
                  if doing == "読む" else "フォルダーのアクセス権（書き込めるか）を確かめてから、もう一度実行してください")
        raise UserError(f"メールの下書き「{target}」を保存できません（{'前からある同じ名前のファイルを' if doing == '読む' else ''}"
                        f"{refused_why(exc, doing)}）。{refused_remedy(exc, rights, 'ここに書き込める', 'Outlook など')}。"
                        ) from exc
    if saved is not None and kept is not None:
        kept(saved)
    return target


# Made anew for every draft: a draft differing only in them says the same thing.
_FRESH_HEADERS = frozenset({"date", "message-id", "content-type"})


def same_draft(old: bytes, new: EmailMessage) -> bool:
    """Whether the draft ``old`` says what ``new`` says: the same headers apart from the
    date, the message id and the MIME boundary, the same text, and attachments of the same
    names. Their bytes are not compared: the tool has just rewritten those files beside
    the draft, keeping any earlier one that differed (split's IF_CHANGED backups)."""
    import email

    try:
        return _gist(email.message_from_bytes(old, policy=POLICY)) == _gist(new)
    except Exception:   # an unreadable draft is not this one: kept
        return False


def _gist(msg: EmailMessage) -> tuple:
    parts = []
    for part in msg.walk():
        heads = tuple((k.lower(), str(v)) for k, v in part.items() if k.lower() not in _FRESH_HEADERS)
        name = part.get_filename()
        body = None if part.is_multipart() or name else part.get_content()
        parts.append((part.get_content_type(), heads, name, body))
    return tuple(parts)
