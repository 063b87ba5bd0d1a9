"""The letters of the yearly cycle: the request to each municipality (split) and the
確定版 sent to all (export), their wording and who signs and sends them.

What travels is cycle.mail (the message, drafts) and cycle.smtp (sending); what the letters
say is here, in one place, so staff who want other wording find it all together.
"""

from __future__ import annotations

import datetime as dt
import string
from email.headerregistry import Address
from pathlib import Path
from typing import Optional, Sequence

from ..core import contract as c
from ..core.alerts import Listing
from ..core.business_days import japanese_date
from ..core.errors import UserError
from ..core.input_sheet import INPUT_CELLS
from ..core.model import Municipality, Settings
from ..core.values import listed
from .mail import RESERVED_SHOWN, build_message, first_line_break, mailbox, parse_addresses, reserved_domain

# --- default wording ---------------------------------------------------------------
# Fields are str.format names; render_template() fills them. 回答期限 is a ready-made
# text such as format_deadline() returns.

REQUEST_SUBJECT = "【{圏域名}】{対象年度}年度 連携事業実施状況等の入力のお願い（{市町村名}）"

REQUEST_BODY = """\
{市町村名} {担当部署}
ご担当者様

いつもお世話になっております。
{圏域名}の{事務局名}です。

{対象年度}年度の連携事業の実施状況等について、取りまとめを行っております。
お手数ですが、添付の入力用ファイルに実績値と実施状況をご入力のうえ、
{回答期限}までに、本メールへの返信でファイルを添付してご提出ください。

・入力できるのは""" + INPUT_CELLS + """だけです（灰色の列は確認用です）。
・シート名、ファイル名、表の構成は変更しないでください。
・該当する実績がない場合は「0」または「実施なし」とご入力ください。

ご不明な点がございましたら、下記までお問い合わせください。
お忙しいところ恐れ入りますが、どうぞよろしくお願いいたします。

――――――――――――――――――――
{事務局名}
メール: {連絡先}
"""

CONFIRMED_SUBJECT = "【{圏域名}】{対象年度}年度 連携事業実施状況等一覧（確定版）の送付"

CONFIRMED_BODY = """\
関係各位

いつもお世話になっております。
{圏域名}の{事務局名}です。

{対象年度}年度の連携事業実施状況等一覧が確定しましたので、
添付のとおり送付いたします。

各市町村におかれましては、実績の取りまとめにご協力いただき、
誠にありがとうございました。
内容についてご不明な点がございましたら、下記までお問い合わせください。

今後ともどうぞよろしくお願いいたします。

――――――――――――――――――――
{事務局名}
メール: {連絡先}
"""

# Japanese letters state a deadline with its weekday, e.g. 2024年4月19日（金）.
format_deadline = japanese_date


def render_template(template: str, **fields: object) -> str:
    """Fill a subject or body; only plain named fields, because staff may edit templates.

    Attribute and index lookups (``{x.__class__}``) are refused: a template typed into
    the workbook must not be able to read Python objects.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UserError(f"メール文面のテンプレートの書式が正しくありません（{exc}）。"
                        "「{」「}」の対応を確認してください。") from exc
    missing = []
    for _literal, name, _spec, _conversion in parsed:
        if name is None:
            continue
        if not name or name.isdigit() or any(c in name for c in ".[]"):
            raise UserError(f"メール文面のテンプレートの差し込み項目「{{{name}}}」は使えません。"
                            "「{圏域名}」のように項目名だけを書いてください。")
        if name not in fields and name not in missing:
            missing.append(name)
    if missing:
        wanted = listed(f"{{{k}}}" for k in missing)
        known = "、".join(f"{{{k}}}" for k in fields) or "なし"
        raise UserError(f"メール文面のテンプレートの差し込み項目 {wanted} に入れる値がありません"
                        f"（使える項目: {known}）。")
    try:
        # Each line without the spaces an empty field leaves at its end (「小樽市 」 for a
        # municipality whose 担当部署 is empty): nothing in a plain-text mail needs them.
        return "\n".join(line.rstrip(" \u3000") for line in template.format_map(fields).split("\n"))
    except (ValueError, TypeError) as exc:
        raise UserError(f"メール文面のテンプレートを埋め込めませんでした（{exc}）。") from exc


def office_name(settings: Settings) -> str:
    """事務局名 for the letters: the central city's department as written in 設定."""
    central = settings.central
    if central is None:
        return f"{settings.region}事務局"
    return f"{central.name} {central.department}".strip()


def office_address(settings: Settings, sender: Optional[str] = None) -> str:
    if sender:
        # Checked here, before split writes a file: a bad --from stopped it after its first.
        if len(parse_addresses([sender], "--from の差出人")) != 1:
            raise UserError(f"--from の差出人のメールアドレスは1つだけ指定してください（{sender}）")
        return sender
    central = settings.central
    if central is None or not central.email:
        raise UserError(f"差出人のメールアドレスがありません。シート「{c.SETTINGS}」の中心市のメールアドレスを"
                        "入力するか、--from で指定してください")
    found = parse_addresses([central.email], address_cell(central))
    if len(found) > 1:
        # A cell of two addresses is taken for recipients; a mail has one sender, and
        # build_message's 「1つだけ指定してください」 named neither the cell nor --from.
        raise UserError(f"シート「{c.SETTINGS}」の中心市（{central.name}{_at(central)}）のメールアドレスが {len(found)} つ"
                        f"あります（{central.email}）。差出人は 1 つだけのため、--from で差出人のアドレスを指定してください")
    return central.email


def contact(sender: str) -> str:
    """連絡先 under the signature: both letters say 「下記までお問い合わせください」, and
    below them stood the department's name alone."""
    found = parse_addresses([sender], "差出人")
    return found[0].addr_spec if found else ""    # none, or several: build_message says so


def check_mail_settings(settings: Settings, sender: Optional[str] = None) -> None:
    """Every municipality's address, and the sender's, asked before the first file or mail
    is made: a bad one found at the seventh request stopped split with six drafts made,
    naming the address alone; an empty one left that municipality out of the 確定版 without
    a word."""
    check_region(settings)
    no_mail = [m.name + _at(m) for m in settings.municipalities if not m.email.strip()]
    if no_mail:
        raise UserError(f"シート「{c.SETTINGS}」の市町村一覧で、{listed(no_mail, '市町村')} のメールアドレスが空です"
                        "（メールを作るには、すべての市町村のメールアドレスが必要です）")
    problems = []
    for muni in settings.municipalities:      # every bad cell at once, not one per run
        try:
            municipality_addresses(muni)
        except UserError as exc:
            problems.append(str(exc))
    if problems:
        raise UserError("\n".join(problems))
    office_address(settings, sender)


def check_region(settings: Settings) -> None:
    """圏域名 opens every subject: empty, the letters read 「【】2023年度…」 and 「の札幌市…です」;
    with a line break (Alt+Enter in the cell, or one at its end, or U+0085 or U+2028 pasted
    in) split stopped after its first file, saying only that a subject cannot hold one."""
    where = f"シート「{c.SETTINGS}」の{c.N_REGION}"
    if not settings.region.strip():
        raise UserError(f"{where}が空です。メールの件名と本文に入るため、入力してください")
    at = first_line_break(settings.region)
    if at is not None:
        ch = settings.region[at]
        what = "改行（Alt+Enter）" if ch in "\r\n" else f"改行にあたる見えない文字 U+{ord(ch):04X} "
        shown = "".join(settings.region.splitlines())
        raise UserError(f"{where}「{shown}」の{at + 1}文字目に{what}が入っています。"
                        "メールの件名に入るため、改行を取って1行にしてください")


def borrowed_addresses(settings: Settings) -> Optional[Listing]:
    """The 【注意】 of municipalities whose cells in 設定 hold the same addresses: one copied into
    the wrong row (Excel's fill handle drags the row above down). Its request went to the
    other office, and the 確定版 went to that mailbox once (mail.build_message sends each
    mailbox once), the municipality left out of To with no word. Said, not refused: two
    municipalities may share one office's address. A cell adding another's address beside
    its own (the office's, for a copy) is a different set, and unsaid."""
    groups: dict[frozenset, list[Municipality]] = {}
    for muni in settings.municipalities:
        mine = frozenset(mailbox(a) for a in _addresses_or_none(muni))
        if mine:
            groups.setdefault(mine, []).append(muni)
    items = [f"　{listed((m.name + _at(m) for m in munis), '市町村')}: {', '.join(sorted(mine))}"
             for mine, munis in groups.items() if len(munis) > 1]
    if not items:
        return None
    return Listing(items, "　…ほか {n} 件", cap=SHOWN_ADDRESS_LINES,
                   head=f"【注意】シート「{c.SETTINGS}」で、メールアドレスが同じ市町村があります。その市町村あての"
                        "メールは、どれも同じアドレスに届きます（ほかの市町村の行のアドレスを"
                        "写していないか確認し、直してからもう一度実行してください）:\n")


# The most lines borrowed_addresses and placeholder_addresses list (all twelve municipalities
# fit; a longer 設定 is cut).
SHOWN_ADDRESS_LINES = 12

# What placeholder_addresses and unsendable_placeholders say of such an address, in both.
PLACEHOLDER_SAID = f"例示用に予約されたドメイン（{RESERVED_SHOWN}）のメールアドレスには、メールが届きません"


def placeholder_addresses(settings: Settings, to: Sequence[str] = (), sender: Optional[str] = None
                          ) -> Optional[Listing]:
    """The 【注意】 of a draft to or from addresses no mail reaches (mail.reserved_domain): the
    sample master's contacts (renkei@otaru.example). The drafts were made without a word, and
    a draft is opened and sent by hand; --smtp refuses them (unsendable_placeholders)."""
    items = _placeholder_items(settings, to, sender)
    if not items:
        return None
    return Listing(items, "　…ほか {n} 件", cap=SHOWN_ADDRESS_LINES,
                   head=f"【注意】{PLACEHOLDER_SAID}（見本のマスターの例のままではありませんか）。"
                        "送る前に、実際のアドレスに直してください:\n")


def unsendable_placeholders(settings: Settings, to: Sequence[str] = (), sender: Optional[str] = None) -> None:
    """--smtp refused before anything is written, naming each cell (or --to, --from) as the
    【注意】 of a draft does: a mail sent to such an address never arrives, or the relay refuses it."""
    items = _placeholder_items(settings, to, sender)
    if items:
        raise UserError(f"{PLACEHOLDER_SAID}。メールは送信していません。実際のアドレスに直してから、もう一度実行して"
                        "ください:\n" + "\n".join(items))


def _placeholder_items(settings: Settings, to: Sequence[str], sender: Optional[str]) -> list[str]:
    """「　小樽市（設定!D11）: renkei@otaru.example」 for each cell (or option) of the mail's
    recipients and sender holding an address under a reserved name."""
    def reserved(found: Sequence[Address]) -> str:
        return ", ".join(a.addr_spec for a in found if reserved_domain(a))

    items = []
    if to:
        if said := reserved(parse_addresses(to, "宛先")):
            items.append(f"　--to: {said}")
    else:
        items += [f"　{m.name}{_at(m)}: {said}" for m in settings.municipalities
                  if (said := reserved(_addresses_or_none(m)))]
    central = settings.central
    if sender:
        if said := reserved(parse_addresses([sender], "--from の差出人")):
            items.append(f"　--from（差出人）: {said}")
    elif to and central is not None and (said := reserved(_addresses_or_none(central))):
        items.append(f"　{central.name}{_at(central)}（差出人）: {said}")
    return items


def _addresses_or_none(muni: Municipality) -> list[Address]:
    """A municipality's addresses, none for a cell refused on its own (check_mail_settings)."""
    try:
        return municipality_addresses(muni)
    except UserError:
        return []


def _named_as_in_settings(settings: Settings, given: list[Address]) -> list[Address]:
    """--to's addresses named after the municipality whose address each is in 設定: the
    resend to the rest of a partial delivery names them as the first send did."""
    known: dict[str, Address] = {}
    for muni in settings.municipalities:
        try:
            known.update((a.addr_spec.lower(), a) for a in municipality_addresses(muni))
        except UserError:      # a bad cell of another municipality is not this mail's concern
            continue
    return [a if a.display_name else known.get(a.addr_spec.lower(), a) for a in given]


def address_cell(muni: Municipality) -> str:
    """Whose addresses a refusal quotes, and where: 「シート「設定」の小樽市（設定!D11）」. The
    municipality alone sent staff down 設定's table for its row and across it for the cell
    (qa-133). Starting 「シート」, as mail.parse_addresses reads a cell's role."""
    return f"シート「{c.SETTINGS}」の{muni.name}{_at(muni)}"


def _at(muni: Municipality) -> str:
    """「（設定!D11）」, the cell of ``muni``'s addresses, or "" for a record without cells."""
    place = muni.place("email")
    return f"（{place}）" if place else ""


def municipality_addresses(muni: Municipality) -> list[Address]:
    """The addresses of a municipality's cell in 設定, each named after the municipality
    (unless the cell names it otherwise): what Outlook shows in 宛先, and what a refusal by
    the mail server names. The name alone, without the department: a longer name is folded
    into two encoded words, and the space between them is lost in Outlook (RFC 2047 §6.2)."""
    found = parse_addresses([muni.email], address_cell(muni))
    return [a if a.display_name else Address(muni.name, a.username, a.domain) for a in found]


def request_message(settings: Settings, muni: Municipality, attachment: Path, deadline: dt.date,
                    sender: Optional[str] = None):
    sender = office_address(settings, sender)
    fields = {"圏域名": settings.region, "対象年度": settings.fiscal_year, "市町村名": muni.name,
              "担当部署": muni.department, "回答期限": format_deadline(deadline),
              "事務局名": office_name(settings), "連絡先": contact(sender)}
    return build_message(sender=sender, to=municipality_addresses(muni),
                         subject=render_template(REQUEST_SUBJECT, **fields),
                         body=render_template(REQUEST_BODY, **fields), attachments=[attachment])


def confirmed_message(settings: Settings, attachments: Sequence[Path], *, to: Sequence[str] = (),
                      sender: Optional[str] = None, draft: bool = True):
    """確定版の送付: to the given addresses, or every municipality's address in 設定 (all of
    them: a municipality without one is named, not left out)."""
    if to:
        check_region(settings)
        recipients = _named_as_in_settings(settings, parse_addresses(to, "宛先"))
    else:
        check_mail_settings(settings, sender)
        recipients = [a for m in settings.municipalities for a in municipality_addresses(m)]
    if not draft:      # after the cells' own refusals (an empty or mistyped address comes first)
        unsendable_placeholders(settings, to, sender)
    sender = office_address(settings, sender)
    fields = {"圏域名": settings.region, "対象年度": settings.fiscal_year, "事務局名": office_name(settings),
              "連絡先": contact(sender)}
    return build_message(sender=sender, to=recipients,
                         subject=render_template(CONFIRMED_SUBJECT, **fields),
                         body=render_template(CONFIRMED_BODY, **fields),
                         attachments=list(attachments), draft=draft)
