"""Open a workbook in headless LibreOffice and report its Basic libraries and form buttons.

Run with Debian's /usr/bin/python3 (it carries the UNO bridge), not the venv:

    /usr/bin/python3 tests/uno_probe.py BOOK.xlsm PROFILE_DIR

Prints one JSON object: {"libraries": {library: {module: source}},
"buttons": {sheet: [{"label": str, "events": [{"listener", "method", "type", "code"}]}]}}.
Starts its own soffice on a free port with the given profile and ends it before exiting.
"""

import json
import os
import socket
import subprocess
import sys
import time

sys.path.append("/usr/lib/python3/dist-packages")
import uno  # noqa: E402
from com.sun.star.beans import PropertyValue  # noqa: E402
from com.sun.star.connection import NoConnectException  # noqa: E402

CONNECT_TIMEOUT = 60.0  # seconds soffice may take to accept connections on a busy machine


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prop(name, value):
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _connect(port, soffice):
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


def _libraries(doc):
    libs = doc.BasicLibraries
    out = {}
    for lib_name in libs.getElementNames():
        libs.loadLibrary(lib_name)
        lib = libs.getByName(lib_name)
        out[lib_name] = {name: lib.getByName(name) for name in lib.getElementNames()}
    return out


def _buttons(doc):
    out = {}
    for sheet in doc.Sheets:
        forms = sheet.getDrawPage().getForms()
        controls = []
        for f in range(forms.getCount()):
            form = forms.getByIndex(f)
            for i in range(form.getCount()):
                model = form.getByIndex(i)
                events = [{"listener": e.ListenerType, "method": e.EventMethod, "type": e.ScriptType,
                           "code": e.ScriptCode} for e in form.getScriptEvents(i)]
                label = model.Label if hasattr(model, "Label") else ""
                controls.append({"label": label, "events": events})
        out[sheet.Name] = controls
    return out


def main(book, profile):
    port = _free_port()
    soffice = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
         f"-env:UserInstallation={uno.systemPathToFileUrl(os.path.abspath(profile))}",
         f"--accept=socket,host=127.0.0.1,port={port};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ctx = _connect(port, soffice)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(os.path.abspath(book)), "_blank", 0,
            (_prop("Hidden", True), _prop("ReadOnly", True)))
        if doc is None:
            raise RuntimeError(f"LibreOffice could not open {book}")
        result = {"libraries": _libraries(doc), "buttons": _buttons(doc)}
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:  # the bridge drops while soffice exits
            pass
        json.dump(result, sys.stdout, ensure_ascii=False)
    finally:
        try:
            soffice.wait(timeout=30)
        except subprocess.TimeoutExpired:
            soffice.kill()
            soffice.wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
