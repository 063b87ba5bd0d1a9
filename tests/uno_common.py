"""What the UNO drivers (tests/uno_probe.py, tests/uno_input_probe.py, tests/uno_vba.py)
share: a free port, UNO property values, the connection to the soffice they started, and
one document opened hidden in a private soffice that is quit and reaped afterwards.

Run only under Debian's /usr/bin/python3, which carries the UNO bridge.
"""

import os
from contextlib import contextmanager
import subprocess
import sys
import time

sys.path.append("/usr/lib/python3/dist-packages")
import uno  # noqa: E402
from com.sun.star.beans import PropertyValue  # noqa: E402
from com.sun.star.connection import NoConnectException  # noqa: E402

CONNECT_TIMEOUT = 60.0  # seconds soffice may take to accept connections on a busy machine


def free_port():
    """A port for the office to listen on (tests/ports.py: a port the kernel picked and let go
    could be handed to another process before soffice bound it, and two offices started at
    once could be given the same one: a job would then talk to another test's office)."""
    from ports import free_port as reserved

    return reserved()


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def start_office(profile):
    """A private headless soffice with its own profile folder: (process, port)."""
    port = free_port()
    soffice = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
         f"-env:UserInstallation={uno.systemPathToFileUrl(os.path.abspath(profile))}",
         f"--accept=socket,host=127.0.0.1,port={port};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return soffice, port


def connect(port, soffice):
    resolver = uno.getComponentContext().ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", uno.getComponentContext())
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        try:
            return resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if soffice.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"soffice did not accept connections (exit code {soffice.poll()})")
            time.sleep(0.2)


def quit_office(desktop):
    """Ask soffice to quit; the bridge drops while it exits."""
    try:
        desktop.terminate()
    except Exception:
        pass


def reap(soffice):
    """Wait for the soffice we started to end, killing it after 30 s."""
    try:
        soffice.wait(timeout=30)
    except subprocess.TimeoutExpired:
        soffice.kill()
        soffice.wait()


@contextmanager
def office_document(book, profile, *props):
    """``book`` open hidden (with ``props``) in a private soffice; closed, quit and reaped."""
    soffice, port = start_office(profile)
    try:
        ctx = connect(port, soffice)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(book)), "_blank", 0,
                                           (prop("Hidden", True), *props))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {book}")
        yield doc
        doc.close(True)
        quit_office(desktop)
    finally:
        reap(soffice)
