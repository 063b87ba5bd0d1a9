"""export --smtp run again: the 送信記録 beside the 確定版 keeps the 確定版 from reaching an
office twice. The rule alone (core.send_record), then the command against a real aiosmtpd
server on 127.0.0.1, counting what the server received for each recipient."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from renkei_xl.cli import main
from renkei_xl.cli.workbook import init_master
from renkei_xl.core import contract as c
from renkei_xl.core.errors import UserError
from renkei_xl.core.send_record import (ACCEPTED, REFUSED, UNKNOWN, UNSENT, Attempt, Recipient, RecordError,
                                        decide, format_attempt, parse, HEADER)
from renkei_xl.cycle import smtp
from renkei_xl.cycle.sendlog import record_path
from conftest import SENDABLE_SUFFIX, with_sendable_contacts
from test_mail import _raw_server, _to_the_dot, free_port, smtp_server  # noqa: F401  (smtp_server: a fixture)

A, B, C = "a@town-a.example", "b@town-b.example", "c@town-c.example"
V1, V2 = "0123456789abcdef", "fedcba9876543210"


def attempt(content, *entries):
    return Attempt("2026-12-04 10:00:00", "確定版.xlsx", content, "127.0.0.1:25",
                   tuple(Recipient(status, f"町 <{addr}>", "") for status, addr in entries))


# ------------------------------------------------------------------ the rule alone

def test_no_record_sends_to_everyone():
    assert decide([], V1, [A, B, C]).send == (A, B, C)


def test_only_those_without_this_content_are_sent_to():
    record = [attempt(V1, (ACCEPTED, A), (REFUSED, B), (UNSENT, C))]
    got = decide(record, V1, [A, B, C])
    assert got.send == (B, C) and got.had == ((A, ACCEPTED),) and not got.new_version


def test_unknown_counts_as_sent_and_resend_sends_all():
    record = [attempt(V1, (UNKNOWN, A), (ACCEPTED, B))]
    assert decide(record, V1, [A, B]).send == ()
    assert decide(record, V1, [A, B]).had == ((A, UNKNOWN), (B, ACCEPTED))
    assert decide(record, V1, [A, B], resend=True).send == (A, B)


def test_a_new_content_goes_to_everyone_and_is_said_new():
    record = [attempt(V1, (ACCEPTED, A), (ACCEPTED, B))]
    got = decide(record, V2, [A, B])
    assert got.send == (A, B) and got.new_version


def test_an_address_is_one_mailbox_whatever_its_case():
    assert decide([attempt(V1, (ACCEPTED, A))], V1, [A.upper()]).send == ()


def test_a_later_failure_does_not_undo_an_acceptance():
    record = [attempt(V1, (ACCEPTED, A)), attempt(V1, (UNSENT, A)), attempt(V1, (UNKNOWN, A))]
    assert decide(record, V1, [A]).had == ((A, ACCEPTED),)


def test_the_same_content_sent_without_the_pdf_goes_again_with_it():
    """Sent without --pdf, then run with it: the record said everyone had this content, the
    PDF never went, and staff read 「送信済みです」. Those that got it with the PDF (or in a
    record written before attachments were kept) are not sent it again without."""
    xlsx, both = ("確定版.xlsx",), ("確定版.xlsx", "確定版.pdf")
    first = dataclasses.replace(attempt(V1, (ACCEPTED, A), (ACCEPTED, B)), attached=xlsx)
    got = decide([first], V1, [A, B], attached=both)
    assert got.send == (A, B) and got.added == (".pdf",) and not got.new_version
    with_pdf = dataclasses.replace(attempt(V1, (ACCEPTED, A)), attached=both)
    assert decide([first, with_pdf], V1, [A, B], attached=both).send == (B,)
    assert decide([with_pdf], V1, [A], attached=xlsx).send == ()
    assert decide([attempt(V1, (ACCEPTED, A))], V1, [A], attached=both).send == ()
    [read] = parse(HEADER + format_attempt(with_pdf), "記録.txt")
    assert read.attached == both and "添付: 確定版.xlsx / 確定版.pdf" in format_attempt(with_pdf)


def test_the_text_reads_back_as_written():
    first = Attempt("2026-12-04 10:00:00", "確定版.xlsx", V1, "smtp:25",
                    (Recipient(ACCEPTED, f"小樽市 <{A}>"), Recipient(REFUSED, f"江別市 <{B}>", "550 5.1.1\tUser\nunknown")),
                    "一部\n届かず")
    text = HEADER + format_attempt(first) + format_attempt(attempt(V2, (UNKNOWN, C)))
    got = parse(text.replace("\n", "\r\n"), "記録.txt")
    assert got[0].entries[1].reason == "550 5.1.1 User unknown" and got[0].note == "一部 届かず"
    assert got[0].entries[0].key == A
    assert [a.content for a in got] == [V1, V2] and got[1].entries[0].status == UNKNOWN


@pytest.mark.parametrize("text, said", [
    ("会議メモ\n小樽市に送る\n", "renkei-xl の送信記録ではありません"),
    (HEADER + "\n■ 2026-12-04 10:00:00 送信\n内容: 0123456789abcdef\n受付\t小樽市 <a@x.example>\n送った\tb\n",
     "9 行目「送った\tb」が読めません"),
    (HEADER + "\n■ 2026-12-04 10:00:00 送信\n受付\t小樽市 <a@x.example>\n", "「内容: 」の行がありません"),
    (HEADER + "\n■ 2026-12-04 10:00:00 送信\n内容: 1234\n", "「内容: 1234」が読めません"),
])
def test_a_damaged_or_foreign_record_is_refused_in_japanese(text, said):
    with pytest.raises(RecordError) as err:
        parse(text, "確定版_送信記録.txt")
    assert said in str(err.value) and "メールは送信していません" in str(err.value), str(err.value)


# ------------------------------------------------------------------ the command, a real server

class Counting:
    """aiosmtpd handler: refuses the addresses in ``refuse`` (550), counts what it delivered."""

    def __init__(self, refuse=()):
        self.refuse = set(refuse)
        self.received: Counter = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.update(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return with_sendable_contacts(init_master(tmp_path_factory.mktemp("sendlog") / "マスター.xlsx", sample="fy2023"))


@pytest.fixture
def master(tmp_path, built, monkeypatch):
    monkeypatch.delenv(smtp.ENV_USER, raising=False)
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)
    return Path(shutil.copy(built, tmp_path / "マスター.xlsx"))


def emails(master: Path) -> list[str]:
    ws = openpyxl.load_workbook(master, read_only=True)[c.SETTINGS]
    return [v for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str) and "@" in v
            and v.endswith(SENDABLE_SUFFIX)]


def set_email(master: Path, old: str, new: str) -> None:
    wb = openpyxl.load_workbook(master)
    for row in wb[c.SETTINGS].iter_rows():
        for cell in row:
            if cell.value == old:
                cell.value = new
    wb.save(master)


def export(master, out, port, *extra):
    return main(["export", str(master), "-o", str(out), "--smtp", f"127.0.0.1:{port}", *extra])


def test_a_refused_address_fixed_and_sent_again_goes_only_to_it(master, tmp_path, smtp_server, capsys):
    """The relay refused one mistyped address and delivered to the others; staff fixed the
    address in 設定 and ran the same command: every office got the 確定版 a second time."""
    everyone = emails(master)
    otaru = next(a for a in everyone if "otaru" in a)
    handler = Counting(refuse={otaru})
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"
    assert export(master, out, port) == 2
    said = capsys.readouterr().err
    assert "送信記録により、送信済みの宛先には送らず残りの宛先だけに送ります" in said, said
    assert handler.received == Counter({a: 1 for a in everyone if a != otaru})
    record = record_path(out)
    assert record.name == "確定版_送信記録.txt"
    text = record.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and b"\r\n" in text and b"\n" not in text.replace(b"\r\n", b"")
    assert f"拒否\t小樽市 <{otaru}>\t550 5.1.1 User unknown" in text.decode("utf-8-sig")

    set_email(master, otaru, "kikaku@otaru.lg.jp")
    assert export(master, out, port) == 0
    said = capsys.readouterr().out
    assert "には送信済みのため送りません（もう一度送るには --resend）" in said, said
    assert handler.received == Counter({**{a: 1 for a in everyone if a != otaru}, "kikaku@otaru.lg.jp": 1})

    assert export(master, out, port) == 0                       # the same content: nobody
    said = capsys.readouterr().out
    assert "宛先の全員に、この内容の確定版を送信済みです。メールは送信していません" in said, said
    assert sum(handler.received.values()) == len(everyone)

    assert export(master, out, port, "--resend") == 0          # --resend: everyone
    assert handler.received["kikaku@otaru.lg.jp"] == 2
    assert all(handler.received[a] == 2 for a in everyone if a != otaru)


def test_a_changed_confirmed_list_goes_to_everyone_as_a_new_version(master, tmp_path, smtp_server, capsys):
    everyone = emails(master)
    handler = Counting()
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"
    assert export(master, out, port) == 0
    wb = openpyxl.load_workbook(master)
    wb[c.SETTINGS]["B2"].value = wb[c.SETTINGS]["B2"].value      # saved by openpyxl: content alike
    wb.save(master)
    assert export(master, out, port) == 0
    assert sum(handler.received.values()) == len(everyone)
    capsys.readouterr()
    from test_cycle import set_cell

    set_cell(master, "小樽市", "04-1", "実績値", 0)
    assert export(master, out, port) == 0
    assert "新しい版の）ため、全員に送ります" in capsys.readouterr().out
    assert handler.received == Counter({a: 2 for a in everyone})


def test_a_connection_cut_after_the_dot_is_unknown_and_not_sent_again(master, tmp_path, smtp_server, capsys):
    out = tmp_path / "確定版.xlsx"
    everyone = emails(master)

    def cut_after_the_dot(conn):
        reader = conn.makefile("rb")
        conn.sendall(b"220 ESMTP\r\n")
        for line in iter(reader.readline, b""):
            if line[:4].upper() == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                _to_the_dot(reader)
                return
            conn.sendall(b"250 ok\r\n")

    assert export(master, out, _raw_server(cut_after_the_dot), "--to", *everyone[:2]) == 2
    said = capsys.readouterr().err
    assert "届いたか分からない宛先（不明）" in said and "--resend" in said, said
    assert f"不明\t札幌市 <{everyone[0]}>" in record_path(out).read_text("utf-8-sig")

    handler = Counting()
    port = smtp_server(handler).port
    assert export(master, out, port) == 0
    said = capsys.readouterr().out
    assert "届いたか分かりません。送信済みとして扱い、送りません" in said, said
    assert handler.received == Counter({a: 1 for a in everyone[2:]})
    assert export(master, out, port, "--resend", "--to", everyone[0]) == 0
    assert handler.received[everyone[0]] == 1


@pytest.mark.parametrize("text", [b"memo\r\n", "renkei-xl 送信記録\r\n".encode("cp932"),
                                  "\ufeffrenkei-xl 送信記録\r\n■ 昨日 送信\r\n".encode("utf-8")])
def test_a_foreign_or_damaged_record_sends_nothing_and_says_why(master, tmp_path, smtp_server, capsys, text):
    handler = Counting()
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"
    record_path(out).write_bytes(text)
    assert export(master, out, port) == 2
    said = capsys.readouterr().err
    assert "送信記録" in said and "メールは送信していません" in said and "Traceback" not in said, said
    assert not handler.received and record_path(out).read_bytes() == text


def test_a_send_that_reached_no_one_is_recorded_unsent_and_sent_in_full_next_time(master, tmp_path, smtp_server, capsys):
    """No server at the port: nothing went, the record says so with the reason, and the
    next run sends to everyone."""
    everyone = emails(master)
    out = tmp_path / "確定版.xlsx"
    assert export(master, out, free_port()) == 2
    assert "接続できません" in capsys.readouterr().err
    text = record_path(out).read_text("utf-8-sig")
    assert text.count("未送信\t") == len(everyone) and "メモ: メールサーバー 127.0.0.1:" in text, text
    handler = Counting()
    assert export(master, out, smtp_server(handler).port) == 0
    assert handler.received == Counter({a: 1 for a in everyone})


def test_resend_without_smtp_is_refused(master, tmp_path, capsys):
    assert main(["export", str(master), "-o", str(tmp_path / "確定版.xlsx"), "--resend"]) == 2
    assert "--resend は --smtp と一緒に指定してください" in capsys.readouterr().err


def test_a_read_only_record_is_refused_before_anything_is_sent(master, tmp_path, smtp_server, capsys):
    """Found unwritable only after the send, the attempt would go unrecorded and the next
    run would send it twice."""
    handler = Counting()
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"
    assert export(master, out, port) == 0
    before = record_path(out).read_bytes()
    record_path(out).chmod(0o444)             # 読み取り専用, as Explorer's property sets it
    assert export(master, out, port, "--resend") == 2
    said = capsys.readouterr().err
    assert "「確定版_送信記録.txt」は読み取り専用です" in said, said
    assert set(handler.received.values()) == {1} and record_path(out).read_bytes() == before


@pytest.mark.parametrize("named", ['"Yamada, Taro"', '"企画課(政策"', '"O\\"Neil"'])
def test_a_recipient_named_as_staff_type_it_reads_back_from_the_record(master, tmp_path, smtp_server, capsys, named):
    """小樽市's cell naming its recipient as Outlook shows names (「"Yamada, Taro" <…>」), or with
    a bracket or a quote the name keeps: the record wrote 「受付\\tYamada, Taro <…>」, which the
    next run read with a mail parser, found no address in, and refused as damaged (exit 2,
    「送信記録…が読めません」): every later send stopped until staff edited the record or
    renamed it away, and then the 確定版 went to everyone again. Read as it was written, the
    same command sends to no one twice."""
    everyone = emails(master)
    otaru = next(a for a in everyone if "otaru" in a)
    set_email(master, otaru, f"{named} <{otaru}>")
    handler = Counting()
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"
    assert export(master, out, port) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert export(master, out, port) == 0, capsys.readouterr().err
    said = capsys.readouterr().out
    assert "宛先の全員に、この内容の確定版を送信済みです。メールは送信していません" in said, said
    assert handler.received == Counter({a: 1 for a in everyone})


@pytest.mark.parametrize("stop", ["after the reply", "before the reply"])
def test_a_send_stopped_once_the_mail_went_is_not_sent_again(master, tmp_path, smtp_server, capsys, monkeypatch, stop):
    """Ctrl+C (or a killed process, a PC shut down) once the server had the message, before
    the 送信記録 was written: the record said nothing of it, and the same command run again
    sent the 確定版 to every office a second time. The record now holds, from just before
    the message goes, every recipient it goes to as 不明 (may have it), replaced by the
    outcome once it is known: a stopped run leaves 不明, which a rerun does not send to.
    The stop is a KeyboardInterrupt raised where Ctrl+C lands (SIGKILL cannot be caught in
    a test; it leaves the same record, written before the message)."""
    everyone = emails(master)
    handler = Counting()
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"
    real, read = smtp._Paced.data, smtp._Paced.getreply

    def interrupted(self, msg):
        real(self, msg)
        raise KeyboardInterrupt

    def unread(self):       # the message at the server to its dot, its reply not yet read
        if self.data_ended:
            raise KeyboardInterrupt
        return read(self)

    if stop == "after the reply":
        monkeypatch.setattr(smtp._Paced, "data", interrupted)
    else:
        monkeypatch.setattr(smtp._Paced, "getreply", unread)
    assert export(master, out, port, "--to", *everyone[:3]) == 130
    said = capsys.readouterr().err
    assert "メールの送信の途中で止めました。メールサーバーに渡した宛先（3 件）は、届いたか分からないため" in said, said
    assert "ファイル 2 個を書き込み済みです（最後は「" in said and "確定版_送信記録.txt」）。" in said, said  # the 確定版 and the record
    assert "バックアップにあります" not in said, said       # the record has no backup
    text = record_path(out).read_text("utf-8-sig")
    assert all(f"{UNKNOWN}\t" in line for line in text.splitlines() if everyone[0] in line), text
    assert ACCEPTED not in text.split(HEADER)[-1], text        # never claims what is not known
    monkeypatch.setattr(smtp._Paced, "data", real)
    monkeypatch.setattr(smtp._Paced, "getreply", read)
    assert export(master, out, port) == 0
    said = capsys.readouterr().out
    assert "届いたか分かりません。送信済みとして扱い、送りません" in said, said
    if stop == "after the reply":
        assert handler.received == Counter({a: 1 for a in everyone})


def test_a_send_stopped_before_the_message_went_records_nothing(master, tmp_path, smtp_server, capsys, monkeypatch):
    """Stopped before the message left (at the recipients), nothing is recorded as gone:
    the next run sends to everyone."""
    everyone = emails(master)
    handler = Counting()
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"
    real = smtp._Paced.rcpt

    def interrupted(self, recip, options=()):
        raise KeyboardInterrupt

    monkeypatch.setattr(smtp._Paced, "rcpt", interrupted)
    assert export(master, out, port) == 130
    capsys.readouterr()
    assert not record_path(out).exists() or UNKNOWN not in record_path(out).read_text("utf-8-sig").split(HEADER)[-1]
    monkeypatch.setattr(smtp._Paced, "rcpt", real)
    assert export(master, out, port) == 0
    assert handler.received == Counter({a: 1 for a in everyone})


def test_a_record_that_cannot_be_written_as_the_mail_goes_sends_nothing(master, tmp_path, smtp_server, capsys, monkeypatch):
    """The 不明 lines are written just before the message goes: refused there (a full disk),
    nothing goes, and the command says so, not 「メールは送りましたが」."""
    from renkei_xl.cycle import sendlog

    handler = Counting()
    port = smtp_server(handler).port
    out = tmp_path / "確定版.xlsx"

    def full(*args, **kwargs):
        raise UserError("ディスクの空き容量が足りません")

    monkeypatch.setattr(sendlog, "append_attempt", full)
    assert export(master, out, port) == 2
    said = capsys.readouterr().err
    assert "「確定版_送信記録.txt」を書き込めないため、メールは送信していません" in said, said
    assert "送りましたが" not in said and not handler.received
