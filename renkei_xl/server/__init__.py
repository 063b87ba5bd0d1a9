"""The on-premises renkei-xl server: the buttons of a master, with no Python on the staff PC.

Excel posts the workbook's contents through xlwings' own VBA client (``RunServerPython``
in the master's Remote module, see macros/RenkeiServer.bas); the server
runs the very same button code as a local click (renkei_xl.excel.buttons) on
``xw.Book(json=payload)``, xlwings' remote engine, and answers with the actions Excel
replays. One warm process serves every PC, so a click costs only the work.

- ``config``: what an installation sets (work folder, key, size limit, share name).
- ``place``: where a request's files are, inside the work folder and nowhere else.
- ``app``: the ASGI app (Starlette): one endpoint per button, the guard (key, size).
- ``run``: ``renkei-xl serve``, uvicorn.

This face decides nothing of its own about a workbook: it refuses what is not a master
request, and otherwise calls the button.
"""
