"""Open a workbook in headless LibreOffice and report its Basic libraries and form buttons.

Run with Debian's /usr/bin/python3 (it carries the UNO bridge), not the venv:

    /usr/bin/python3 tests/uno_probe.py BOOK.xlsm PROFILE_DIR

Prints one JSON object: {"libraries": {library: {module: source}},
"buttons": {sheet: [{"label": str, "events": [{"listener", "method", "type", "code"}]}]}}.
Starts its own soffice on a free port with the given profile and ends it before exiting.
The tests call `probe` through realbooks.lo_probe instead, in the soffice their process keeps.
"""

import json
import sys

from uno_common import office_document, prop  # uno_common puts the UNO bridge on sys.path


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


def probe(doc) -> dict:
    """What the module docstring says is printed, of a document opened read-only."""
    return {"libraries": _libraries(doc), "buttons": _buttons(doc)}


def main(book, profile):
    with office_document(book, profile, prop("ReadOnly", True)) as doc:
        result = probe(doc)
    sys.stdout.write(json.dumps(result, ensure_ascii=False))   # the C encoder: dump's is Python's


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
