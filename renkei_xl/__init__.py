"""renkei-xl: the master workbook and evaluation of さっぽろ連携中枢都市圏's 連携事業実施状況等一覧.

Kept import-free on purpose: every button click starts a fresh Python process, and
``import renkei_xl.x`` must not drag Excel libraries into paths that do not need them.
"""

__version__ = "0.1.0"
