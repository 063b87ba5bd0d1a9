"""The OOXML package, edited in place.

No kept Python library edits an .xlsx/.xlsm package in place: openpyxl and XlsxWriter
rebuild the whole file from their own model, which drops what they do not model (form
controls in the 2010 form, x14 extensions, furigana, cached formula results, pictures
they did not create). So this package is a small writer of our own, in the manner of
XlsxWriter: one module per part kind, each documented and tested against files real
applications saved. It only ever

- replaces whole parts the tool owns (its sheets and their drawings and charts),
- appends to shared parts (styles, content types, relationships, defined names),
- edits single cells inside a staff sheet, leaving every other byte of it as it was.

Everything it reads is parsed safely (package.xml.parse: no DTDs, no entity expansion;
defusedxml where a part's prolog declares one, ElementTree's C parser where none).
"""
