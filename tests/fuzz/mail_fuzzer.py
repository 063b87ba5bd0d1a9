"""Mail addresses, names and the centre city's sender typed into 設定 (quoting, commas and
semicolons, header injection, bidi and zero-width characters, long names), then one of
``split --eml``, ``export --eml`` and ``export --smtp`` (to a local aiosmtpd, once per run).
Besides the oracle's defects (fuzzlib.problem), a draft or a sent message is a defect when
it has a bare CR/LF or a line over 998 bytes, a header the policy calls defective, an extra
or repeated header, recipients other than the ones typed, or a cell that tried to inject a
header accepted at all."""

from __future__ import annotations

import email
import os
import email.policy
import re
from pathlib import Path

from fuzzlib import Case, Outcome, copy_to, problem, run_cli

NAME = "mail"
MAIL62_SHARE = .2   # cases made by classes62(): what stop 62 found by hand in sending
BITS = ['小樽市', '企画課', '"', "'", ',', ';', '<', '>', '\n', '\r\n', '\t', ' ', '\u3000', '\u200b', '𠮷', '🏯', 'CON', 'NUL',
        '=?utf-8?b?QQ==?=', '\\', '/', ':', '*', '?', '|', '(', ')', '@', '.', '髙', 'Bcc: evil@x.example',
        '\r\nBcc: evil@x.example', 'x' * 200, '{市町村名}', '{', '}', '%s', '\u2028', '\u0085', 'ｶﾀｶﾅ', '〜', '−']
LOCALS = ['renkei', 'a.b', 'a+b', 'x' * 64, 'x' * 70, "o'neil", 'kikaku', 'a_b-c', 'kikaku.seisaku']
DOMAINS = ['otaru.example', 'city.otaru.hokkaido.jp', 'xn--wgv71a.jp', 'a' * 63 + '.jp', 'sub.example.', 'EXAMPLE.JP', '[127.0.0.1]']
NOT_ADDRESSES = ['a..b@otaru.example', '.a@otaru.example', 'a.@otaru.example', 'a@otaru..example', 'a@-otaru.example', 'a@b@otaru.example',
                 'kikaku\uff20otaru.example', 'a@', '@otaru.example', 'a b@otaru.example', 'a@otaru.example>', '<a@otaru.example',
                 'a@[999.0.0.1]', 'a@' + 'b' * 64 + '.jp', 'a@otaru_city.example', 'mailto:a@otaru.example']
HEADERS = {'from', 'to', 'subject', 'date', 'message-id', 'x-unsent', 'mime-version', 'content-type', 'cc'}


class Received:
    """aiosmtpd's handler: keeps each envelope."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return '250 OK'


class WindowsOnlyAuth(Received):
    """An Exchange receive connector's EHLO as IT often leaves it: 「AUTH GSSAPI NTLM」 alone
    (aiosmtpd offers a mechanism for each auth_ method; its PLAIN and LOGIN are excluded)."""

    async def auth_NTLM(self, server, args):
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=False, handled=False)

    async def auth_GSSAPI(self, server, args):
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=False, handled=False)


def prepare(masters: dict, tmp):
    import warnings

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from http_fuzzer import free_port

    for name in ("RENKEI_SMTP_USER", "RENKEI_SMTP_PASSWORD"):   # no login offered to the test server
        os.environ.pop(name, None)
    received, port = Received(), free_port()
    controller = Controller(received, hostname='127.0.0.1', port=port)
    controller.start()
    with warnings.catch_warnings():   # 「Requiring AUTH while not requiring TLS」: a local test server
        warnings.simplefilter("ignore")
        windows = Controller(WindowsOnlyAuth(), hostname='127.0.0.1', port=free_port(), auth_require_tls=False,
                             auth_exclude_mechanism=["LOGIN", "PLAIN"], authenticator=lambda *args: AuthResult(success=False))
        windows.start()
    return {**masters, "xlsx": sendable_copy(masters["xlsx"], tmp), "received": received, "port": port,
            "controller": controller, "windows": windows}


def sendable_copy(master, tmp):
    """The sample master with 設定's addresses out of the reserved .example (「renkei@otaru.lg.jp」):
    --smtp refuses an address no mail reaches, and every send would stop there."""
    import shutil

    import openpyxl

    path = Path(tmp) / ("sendable" + Path(master).suffix)
    shutil.copyfile(master, path)
    wb = openpyxl.load_workbook(path)
    for row in wb['設定'].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.endswith('.example') and '@' in cell.value:
                cell.value = cell.value[:-len('.example')] + '.lg.jp'
    wb.save(path)
    return path


def finish(context: dict) -> None:
    context["controller"].stop()
    context["windows"].stop()


def text(rng, lo=0, hi=5) -> str:
    return ''.join(rng.choice(BITS) for _ in range(rng.randrange(lo, hi)))


def entry(rng) -> tuple[str, str | None]:
    """(cell text, the address it means, or None when the cell tries to inject a header)."""
    addr = f'{rng.choice(LOCALS)}{rng.randrange(99)}@{rng.choice(DOMAINS)}'
    k, name = rng.randrange(6), text(rng, 1, 4)
    if k == 0:
        return addr, addr
    if k == 1:
        return f'{name} <{addr}>', addr
    if k == 2:
        return '"' + name.replace('\\', '\\\\').replace('"', '\\"') + f'" <{addr}>', addr
    if k == 3 and rng.random() < .3:
        return addr + rng.choice(['\r\nBcc: evil@x.example', '\nCc: evil@x.example', '>', '\u200b']), None
    if k == 4:
        return f'{name}<{addr}>', addr
    if k == 5 and rng.random() < .4:   # no address a mail server takes: refused, never sent on
        return rng.choice(NOT_ADDRESSES), None
    # an RFC 5322 comment after the address (「(企画課)」) is no injection: it means the address
    return addr + rng.choice([' ', '\u3000', '\n', ' (comment)', ' (企画(政策)課)']), addr


def typed_settings(src, case: Case) -> dict:
    """設定's addresses (and now and then a name, the region's name, the year) retyped;
    the addresses each municipality's cell means, None for a cell that injects."""
    import openpyxl

    rng, intent = case.rng, {}
    wb = openpyxl.load_workbook(src)
    ws = wb['設定']
    for row in [r for r in ws.iter_rows() if r[1].value in ('中心市', '連携市町村')]:
        if rng.random() < .15:
            row[2].value = text(rng, 0, 4)
        meant = [(row[3].value or '').strip()]
        if rng.random() < .35:
            entries = [entry(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
            row[3].value = rng.choice([', ', ';', ',', '; ', '\n', '\r\n', '、', '，', '；', ' ']).join(e[0] for e in entries)
            meant = [e[1] for e in entries]
        intent[row[0].value] = None if None in meant else [a.strip().lower() for a in meant]
    if rng.random() < .3:
        ws['B2'] = text(rng, 1, 5)
    wb.save(src)
    return intent


def message_problems(raw: bytes, where: str) -> list[str]:
    """What a mail program would show wrong, or a server refuse."""
    found = [f'{where}: line of {len(line)} bytes' for line in raw.split(b'\r\n') if len(line) > 998]
    if re.search(rb'(?<!\r)\n|\r(?!\n)', raw):
        found.append(f'{where}: bare CR or LF')
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects:
        found.append(f'{where}: defects {msg.defects}')
    heads = sorted(k.lower() for k in msg.keys())
    if set(heads) - HEADERS or len(heads) != len(set(heads)):
        found.append(f'{where}: headers {heads}')
    for part in msg.walk():
        for name in part.keys():
            for value in part.get_all(name):
                bad = [d for d in value.defects if not (name.lower() == 'content-type' and (
                    'encoded word inside quoted' in str(d) or 'trailing whitespace after encoded' in str(d)))]
                if bad:
                    found.append(f'{where}: {name} defects {bad}')
    return found


def recipients(raw: bytes) -> list[str]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return [a.addr_spec.lower() for h in ('To', 'Cc') if msg[h] for a in msg[h].addresses]


def judged(outcome: Outcome, intent: dict, drafts: list[bytes]) -> Outcome:
    """The command's outcome with the mail's own defects as its note."""
    if problem(outcome) or outcome.rc != 0:
        return outcome
    wanted = sorted(a for addrs in intent.values() if addrs for a in addrs)
    found = []
    for raw in drafts:
        found += message_problems(raw, 'message')
    if None in intent.values() and drafts:
        found.append('a cell that injects a header or holds no address was accepted')
    elif drafts and not outcome.label.startswith('split') and sorted(r for raw in drafts for r in recipients(raw)) != wanted:
        found.append(f'recipients {[recipients(raw) for raw in drafts]} != {wanted}')
    outcome.note = '; '.join(found)[:2000]
    return outcome


BREAKS = ['\n', '\r', '\u2028', '\u0085', '\u2029', '\r\n']
# Names staff type before an address as Outlook shows them: a comma, a bracket or a quote the
# name keeps (qa-fuzz62-2: the send record refused them on the next run).
NAMED = ['"Yamada, Taro"', '"企画課(政策"', '"O\\"Neil"', '"(政策), 企画"', '"a,b,(c"', '"企画課 (政策課)"']


def classes62(context: dict, case: Case, rng) -> list:
    """What stop 62 found by hand in sending (qa-fuzz62-2): the 確定版's name (the attachment's)
    holding a line break; a recipient named with a comma, 「(」 or 「"」, sent twice with the
    same 送信記録 (the second run must read the record it wrote and send to no one again); a
    server offering only AUTH GSSAPI NTLM (said naming them, not as a cut connection)."""
    master = copy_to(context["xlsx"], case.folder)
    case.inputs.append(master)
    kind = rng.choice(["name-break", "twice", "windows-auth"])
    if kind == "name-break":
        name = rng.choice(["確定", "", "x"]) + rng.choice(BREAKS) + rng.choice(["版.xlsx", ".xlsx", "版"])
        how = rng.choice([["--eml"], ["--smtp", f'127.0.0.1:{context["port"]}']])
        return [run_cli(['export', master, '-o', case.folder / name, *how], case.folder, guard=master)]
    if kind == "twice":
        import openpyxl

        wb = openpyxl.load_workbook(master)
        rows = [r for r in wb['設定'].iter_rows() if r[1].value in ('中心市', '連携市町村') and r[3].value]
        for row in rng.sample(rows, rng.randint(1, min(3, len(rows)))):
            row[3].value = f'{rng.choice(NAMED)} <{str(row[3].value).strip()}>'
        wb.save(master)
        args = ['export', master, '-o', case.folder / '確定版.xlsx', '--smtp', f'127.0.0.1:{context["port"]}']
        first = run_cli(args, case.folder)
        if problem(first) or first.rc != 0:
            return [first]
        second = run_cli(args, case.folder)
        if not problem(second) and second.rc != 0:
            second.note = f"the same export --smtp again was refused (exit {second.rc}): its own 送信記録 not read back"
        return [first, second]
    os.environ.update(RENKEI_SMTP_USER="renkei", RENKEI_SMTP_PASSWORD="s3cret")
    try:
        o = run_cli(['export', master, '-o', case.folder / '確定版.xlsx', '--smtp', f'127.0.0.1:{context["windows"].port}'],
                    case.folder, guard=master)
    finally:
        for name in ("RENKEI_SMTP_USER", "RENKEI_SMTP_PASSWORD"):
            os.environ.pop(name, None)
    if not problem(o) and (o.rc != 2 or "GSSAPI" not in o.output or "切れました" in o.output):
        o.note = "a server offering only AUTH GSSAPI NTLM was not said so (the mechanisms named, nothing sent)"
    return [o]


def run_case(context: dict, case: Case) -> list:
    if (rng := case.rng_for("mail62")).random() < MAIL62_SHARE:   # its own draws: older cases replay as before
        return classes62(context, case, rng)
    master = copy_to(context["xlsx"], case.folder)
    intent = typed_settings(master, case)
    case.inputs.append(master)
    kind = case.rng.choice(['split', 'eml', 'smtp'])
    before = len(context["received"].envelopes)
    if kind == 'split':
        outcome = run_cli(['split', master, '--outdir', case.folder / 's', '--eml', '--deadline', '2027-01-15'], case.folder)
        drafts = [p.read_bytes() for p in sorted((case.folder / 's').glob('*.eml'))]
    elif kind == 'eml':
        outcome = run_cli(['export', master, '-o', case.folder / '確定版.xlsx', '--eml'], case.folder)
        drafts = [p.read_bytes() for p in case.folder.glob('確定版.eml')]
    else:
        outcome = run_cli(['export', master, '-o', case.folder / '確定版.xlsx', '--smtp', f'127.0.0.1:{context["port"]}'], case.folder)
        drafts = [e.original_content for e in context["received"].envelopes[before:]]
    return [judged(outcome, intent, drafts)]
