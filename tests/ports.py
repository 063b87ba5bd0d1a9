"""A port for a server a test starts: one nothing else on the machine is handed meanwhile."""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import time
from pathlib import Path

# The ports this process took, each with its reservation held open (flock) until it ends.
_TAKEN: dict[int, int] = {}
_RESERVED = Path(tempfile.gettempdir()) / f"renkei-xl-test-ports-{os.getuid()}"


def _ephemeral_low() -> int:
    """The lowest port the kernel hands out by itself (bind to 0, a client's connect)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port free on 127.0.0.1, for a server (often another process) to bind later.

    A port the kernel picked for a bind to 0 and let go was free only then: until the server
    bound it, the kernel could hand it again to any client's connection (every httpx request
    of the 4 xdist workers takes one from that range) or to another worker's bind to 0, and
    the server then stopped with 「待ち受けられません」. So the port is taken below the kernel's
    own range, where it hands out none, at random, and reserved across processes (an flock on
    a file of its number, held until this process ends), so no other worker of the run takes
    it either; it must also be bindable now (no service of the machine on it)."""
    low = _ephemeral_low()
    if low > 12_000:
        _RESERVED.mkdir(mode=0o700, exist_ok=True)
        for _ in range(500):
            port = random.randrange(10_000, low)
            if port in _TAKEN:
                continue
            fd = os.open(_RESERVED / str(port), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            except OSError:         # another process's, or in use on the machine
                os.close(fd)
                continue
            _TAKEN[port] = fd
            return port
    with socket.socket() as sock:   # a kernel range starting low: its own pick, as before
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------- what the kernel says of a test's sockets

LISTEN = "0A"      # /proc/net/tcp's st of a listening socket


def _tcp_rows() -> list[list[str]]:
    """/proc/net/tcp's rows (IPv4; the test servers listen on 127.0.0.1), split in fields."""
    return [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]


def _address(port: int, host: str = "127.0.0.1") -> str:
    """``host``:``port`` as /proc/net/tcp prints it (the address's bytes little-endian)."""
    return f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"


def listening(port: int) -> bool:
    """Whether a socket listens on 127.0.0.1:``port``: a one-worker server that took a stop
    closes it first, before it waits for its running clicks (uvicorn's shutdown)."""
    return any(row[1] == _address(port) and row[3] == LISTEN for row in _tcp_rows())


def _server_end(port: int, client: socket.socket | int) -> list[str] | None:
    """The kernel's row of the server's end of the connection from ``client`` (its socket, or
    its port on 127.0.0.1) to ``port``; None while (or once) there is none."""
    here = _address(client) if isinstance(client, int) else _address(client.getsockname()[1], client.getsockname()[0])
    for row in _tcp_rows():
        if row[1] == _address(port) and row[2] == here:
            return row
    return None


def unread(port: int, client: socket.socket | int) -> int | None:
    """The bytes the server on ``port`` has not read yet of what ``client`` sent (the rx_queue
    of the server's end of that connection); None while the kernel lists no such end."""
    row = _server_end(port, client)
    return None if row is None else int(row[4].split(":")[1], 16)


def wait_read(port: int, client: socket.socket, timeout: float = 30) -> None:
    """Until the server on ``port`` has read all ``client`` sent: a sleep stood in for that
    (a cut that reached a server which had not yet read the head was no cut of a request)."""
    deadline = time.monotonic() + timeout
    while unread(port, client) != 0:
        assert time.monotonic() < deadline, f"the server on {port} did not read what was sent"
        time.sleep(0.01)


OPEN = ("01", "08")     # ESTABLISHED, CLOSE_WAIT: the client's close not yet taken by the server


def wait_gone(port: int, client: socket.socket | int, timeout: float = 30) -> None:
    """Until the server on ``port`` has closed its end of the connection from ``client`` (its
    socket, or the port of one closed on 127.0.0.1): taken the client's close, or closed it
    itself. A sleep stood in for that, and a server that had not yet met the close ran a
    click whose Excel had gone."""
    deadline = time.monotonic() + timeout
    while (row := _server_end(port, client)) is not None and row[3] in OPEN:
        assert time.monotonic() < deadline, f"the server on {port} did not take the close of {client}"
        time.sleep(0.01)


def wait_all_gone(port: int, clients: list[socket.socket], timeout: float = 30) -> None:
    """``wait_gone`` for many clients at once: one read of /proc/net/tcp a poll for all of
    them. Waiting on each in turn read the table once per client and poll, and a table of
    300 flooding connections made that 6 CPU-s of a test."""
    deadline = time.monotonic() + timeout
    left = {_address(c.getsockname()[1], c.getsockname()[0]) for c in clients}
    server = _address(port)
    while left := left & {row[2] for row in _tcp_rows() if row[1] == server and row[3] in OPEN}:
        assert time.monotonic() < deadline, f"the server on {port} did not take the close of {len(left)} clients"
        time.sleep(0.01)


def wait_accepted(port: int, timeout: float = 30) -> None:
    """Until the server listening on ``port`` has accepted every connection made to it (the
    rx_queue of a listening socket is its backlog not yet accepted)."""
    deadline = time.monotonic() + timeout
    while any(row[1] == _address(port) and row[3] == LISTEN and int(row[4].split(":")[1], 16)
              for row in _tcp_rows()):
        assert time.monotonic() < deadline, f"the server on {port} did not accept its connections"
        time.sleep(0.01)


def wait_closed(port: int, timeout: float = 30) -> None:
    """Until nothing listens on ``port``: the server took its stop (a sleep stood in for that)."""
    deadline = time.monotonic() + timeout
    while listening(port):
        assert time.monotonic() < deadline, f"the server on {port} still listens"
        time.sleep(0.01)
