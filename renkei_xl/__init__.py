"""renkei-xl: the master workbook and evaluation of さっぽろ連携中枢都市圏's 連携事業実施状況等一覧.

Kept import-free on purpose: every button click starts a fresh Python process, and
``import renkei_xl.x`` must not drag Excel libraries into paths that do not need them.
(``sys`` is no import: every Python has it loaded before it reads a line of ours.)
"""

import sys

__version__ = "0.1.0"

# The oldest Python the tool runs on; setup.cfg's python_requires says the same (a test holds
# them equal). 3.10 has no possessive quantifiers (*+ ++ ?+: re.error), and 3.11.0-3.11.4
# match them wrongly (CPython gh-106052, gh-100061): a styles part whose <xf> elements the
# pattern did not find crashed every recalc, and a check that finds nothing accepts what it
# should refuse. Held here, before any module of ours is read, so that every entry (the
# command line, the server, a button's RunPython) refuses in Japanese before anything runs.
PYTHON_MIN = (3, 11, 5)

if sys.version_info < PYTHON_MIN:
    from .interpreter import refuse

    refuse(PYTHON_MIN)
