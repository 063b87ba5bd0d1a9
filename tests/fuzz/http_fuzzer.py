"""A real ``renkei-xl serve`` (started as tests/test_server.py starts it, once per run)
sent a real VBA client's request with its method, path, headers (X-Renkei-*, X-Renkei-Percents among them,
Authorization, Content-Length/Encoding/Type, Transfer-Encoding) or body (cut, compressed,
re-encoded, padded to megabytes, bytes spliced in) damaged, over a raw socket. A defect is
what the oracle (fuzzlib.problem) calls one, a connection closed without an answer, or the
server dying."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import time
import zlib

from fuzzlib import Case, Outcome, TIMEOUT, cli_command, limit_memory
from ports import free_port
from server_base import server_master

NAME = "http"
OPEN_STRING_SHARE = .1   # requests whose body leaves a string open over many escaped quotes (qa-fuzz62-2)
KEY = "test-key-7f3a9c1e5b2d4a6f8e0c"
USERS = ['5C71 7530', '5C71753', 'D800', 'DC00D800', 'ZZZZ', '５Ｃ７１', '0000', '00', 'A' * 400, 'A' * 404, ' 5C71 ', '\u3042', '%E3%81%82']
HEADER_VALUES = ['', ' ', '0', '1', '-1', 'abc', '１', '²', '\x00', '\u00e9', 'x' * 9000, '99999999999999999999', '0,1', '1,,2', ',',
                 '5;saved=1', 'saved=1; read-only=0', 'saved=2', 'saved', ';;;;;;;', '=' * 50, '%00', '\t1', '-0', '1e3', '4294967296',
                 '1,1,1', '3,-1', 'nan']
ENTRIES = ['check', 'recalc', 'split', 'export', 'collect', 'rollover', 'recalc/outcome', 'none', 'recalc/../check', 'recalc?x=1',
           'recalc%2F', '%ff', 'r%00']


def prepare(masters: dict, tmp):
    """The server on a free port over a copy of the server master, ready to answer."""
    from remote_payload import client_body, percent_header_of

    context = server_master(tmp)
    port = free_port()
    root = tmp / "http"
    root.mkdir()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workdir", str(context["master"].parent.parent),
            "--share", r"\\fs\renkei", "--max-mb", "1", "--error-log", str(root / "error.log"), "--log", str(root / "server.log")]
    err = open(root / "stderr.log", "w")
    proc = subprocess.Popen([*cli_command(), *args], cwd=root, stdout=err, stderr=err, preexec_fn=limit_memory,
                            env={**os.environ, "RENKEI_XL_SERVER_KEY": KEY})
    context.update(port=port, proc=proc, err=err, root=root, body=client_body(context["payload"]),
                   percents=percent_header_of(context["payload"]))
    for _ in range(300):
        try:
            exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False, 2)
            break
        except OSError:
            time.sleep(0.1)
    return context


def finish(context: dict) -> None:
    """Stop the server; one whose worker is still held by a case that hung is killed."""
    context["proc"].terminate()
    try:
        context["proc"].wait(20)
    except subprocess.TimeoutExpired:
        context["proc"].kill()
        context["proc"].wait(20)
    context["err"].close()


def exchange(port: int, request: bytes, shut: bool, timeout: float = TIMEOUT) -> bytes:
    """Send ``request`` (and half-close when ``shut``), read one answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        try:
            c.sendall(request)
            if shut:
                c.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server answered a bad request line before its body arrived: read that answer
        out = b""
        while True:
            try:
                data = c.recv(65536)
            except ConnectionResetError:
                return out + b"<<reset>>"
            if not data or _complete(out + data):
                return out + data
            out += data


def _complete(out: bytes) -> bool:
    head, sep, rest = out.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n") if sep else []:
        if line.lower().startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":")[1])
    return False


def client_headers(context: dict) -> dict:
    """The headers the master's VBA client sends, undamaged."""
    return {'Host': '127.0.0.1', 'Authorization': KEY, 'X-Renkei-Client': '1', 'X-Renkei-Master': context["id"],
            'X-Renkei-User': '5C717530', 'Content-Type': 'application/json'}


def headers(context: dict, rng, body: bytes) -> tuple[dict, bytes]:
    """The client's headers and body with one to three damages."""
    h = client_headers(context)
    if context.get("percents") and rng.random() < .7:   # a master whose VBA sends it (client 7 on)
        h['X-Renkei-Percents'] = context["percents"]
    for _ in range(rng.randrange(1, 4)):
        h, body = damage(h, body, rng, context["id"], context.get("percents") or "2")
    if 'Content-Length' not in h and 'Transfer-Encoding' not in h:
        h['Content-Length'] = str(len(body))
    if h.get('Transfer-Encoding', '').endswith('chunked'):
        body = b''.join(b'%x\r\n%s\r\n' % (len(body[i:i + 50000]), body[i:i + 50000])
                        for i in range(0, len(body), 50000)) + b'0\r\n\r\n'
    return h, body


def damage(h: dict, body: bytes, rng, master_id: str, percents: str = "2") -> tuple[dict, bytes]:
    k = rng.randrange(15)
    if k >= 12:   # what a proxy or a hand-made client puts in the head itself
        return _head_damage(h, body, rng, k), body
    if k == 0:
        h['Authorization'] = rng.choice([KEY, 'Bearer ' + KEY, 'bearer  ' + KEY + ' ', KEY + '\x00', 'Basic ' + KEY, '',
                                         KEY[:-1], KEY.upper(), 'é' * 30, KEY * 100])
    elif k == 1:
        name = rng.choice(['X-Renkei-User', 'X-Renkei-Client', 'X-Renkei-Master', 'X-Renkei-Book', 'X-Renkei-Chart-Sheets',
                           'X-Renkei-Percents'])
        h[name] = rng.choice(USERS + HEADER_VALUES + [master_id.upper(), master_id + ' ', master_id[:-1]] + [
            percents, percents.lower(), percents + ';', ' ' + percents, percents[:rng.randrange(len(percents) + 1)],
            percents.replace('/', '/+/', 1), '2;' + ';'.join([percents[2:]] * 2), '+', '1' + percents[1:]])
    elif k == 2:
        h['Content-Encoding'] = rng.choice(['gzip', 'GZIP', 'deflate', 'br', 'identity', ' identity ', 'gzip, identity', 'x', ''])
        body = gzip.compress(body) if rng.random() < .5 else body
    elif k == 3:
        h['Content-Length'] = rng.choice(['0', '-1', '1', str(len(body) + 1), str(len(body) - 1), '99999999999', 'abc', '１０',
                                          ' 10', '1e3', '+5', f'{len(body)}, {len(body)}'])
    elif k == 4:
        body = body[:rng.randrange(len(body) + 1)]
    elif k == 5:
        body = zlib.compress(body)
    elif k == 6:
        body = body + b' ' * rng.choice([10, 2_000_000])
    elif k == 7:
        h['Transfer-Encoding'] = rng.choice(['chunked', 'gzip, chunked', 'identity', 'chunked, chunked'])
    elif k == 8:
        h['Content-Type'] = rng.choice(['text/plain', 'application/json; charset=shift_jis', 'application/json; charset=utf-16', '',
                                        'multipart/form-data; boundary=x'])
    elif k == 9:
        body = body.decode('utf-8', 'replace').encode(rng.choice(['utf-16', 'cp932', 'utf-8-sig']), errors='replace')
    elif k == 10:
        h[rng.choice(['Expect', 'Connection', 'Upgrade', 'X-Forwarded-For', 'Cookie'])] = rng.choice(
            ['100-continue', 'close', 'websocket', 'h2c', '1.2.3.4', 'a=b'])
    else:
        i = rng.randrange(len(body) + 1)
        body = body[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8))) + body[i + rng.randrange(0, 20):]
    return h, body


def _head_damage(h: dict, body: bytes, rng, k: int) -> dict:
    """A header twice (the second line rides in the first's value), a header folded onto a
    continuation line (obsolete in HTTP/1.1, still sent), thousands of headers, one header
    line past any buffer."""
    name = rng.choice(['Content-Length', 'Authorization', 'X-Renkei-Master', 'X-Renkei-Client', 'X-Renkei-User',
                       'X-Renkei-Percents', 'Content-Encoding', 'Transfer-Encoding', 'Host'])
    if k == 12:
        again = rng.choice([h.get(name, ''), '0', str(len(body) + 7), 'x', 'chunked', '', h.get(name, '') + ' '])
        h[name] = f"{h.get(name, '')}\r\n{name.lower() if rng.random() < .5 else name}: {again}"
    elif k == 13:
        h[name] = f"{h.get(name, '')}\r\n{rng.choice([' ', chr(9)])}{rng.choice(['x', h.get(name, ''), ''])}"
    elif rng.random() < .5:
        for n in range(rng.choice([100, 1000, 20000])):
            h[f'X-Pad-{n}'] = 'a'
    else:
        h[rng.choice(['X-Pad', name])] = 'a' * rng.choice([8190, 65537, 1_000_000])
    return h


def run_case(context: dict, case: Case) -> list:
    rng = case.rng
    entry = rng.choice(ENTRIES)
    method = rng.choice(['POST'] * 8 + ['GET', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'P\u00f6ST'])
    h, body = headers(context, rng, context["body"])
    version = rng.choice(['HTTP/1.1'] * 12 + ['HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1'])
    target = f'/buttons/{entry}' if rng.random() < .9 else rng.choice(
        [f'http://127.0.0.1/buttons/{entry}', f'//buttons/{entry}', f'/buttons//{entry}', f'/BUTTONS/{entry}', '*',
         f'/buttons/{entry}#x', f'/buttons/{entry}/', f'/%62uttons/{entry}', '/' + 'a' * 70000])
    head = f'{method} {target} {version}\r\n'.encode() + b''.join(
        f'{k}: {v}\r\n'.encode('utf-8', 'surrogatepass') for k, v in h.items())
    open_body = (rng62 := case.rng_for("body62")).random() < OPEN_STRING_SHARE   # its own draws: older cases replay as before
    if open_body:
        from payload_fuzzer import open_string

        body = open_string(context["body"], rng62)   # a well-formed request of it: the body's search is what is judged
        h = {**client_headers(context), 'Content-Length': str(len(body))}
        entry = rng62.choice(['check', 'recalc', 'split'])
        method, head = 'POST', f'POST /buttons/{entry} HTTP/1.1\r\n'.encode() + b''.join(
            f'{k}: {v}\r\n'.encode('utf-8', 'surrogatepass') for k, v in h.items())
    request = head + b'\r\n' + body
    shut = rng.random() < .3 and not open_body   # the open body's answer is awaited: a half-closed one may get none
    sent = case.folder / "request.bin"
    sent.write_bytes(request)
    case.inputs.append(sent)
    outcome = _answer(context, request, shut, f"{method} /buttons/{entry}")
    if method == "HEAD" and outcome.status != 500:   # a HEAD answer has no body to hold a sentence
        outcome.status = None
    return [outcome]


def _answer(context: dict, request: bytes, shut: bool, label: str) -> Outcome:
    try:
        out = exchange(context["port"], request, shut)
    except socket.timeout:
        return Outcome(label, hung=True)
    except OSError as exc:
        out = f"<<{exc}>>".encode()
    text = out.decode("utf-8", "replace")
    status = int(out[9:12]) if out[9:12].isdigit() else None
    if context["proc"].poll() is not None:
        return Outcome(label, output=text, note=f"the server died (exit {context['proc'].returncode})")
    if status is None and not shut:
        return Outcome(label, output=text, note="connection closed without an answer")
    body = text.partition("\r\n\r\n")[2]
    return Outcome(label, rc=None, output=body, status=status if status is not None and status != 200 or body else None)
