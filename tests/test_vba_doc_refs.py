"""The master's macros point staff at docs/staff-setup.md by its real title and section
numbers. Renkei.bas said 「手順書 1-3 章」 of a document titled 「職員用パソコンの準備とボタンの
使い方」, which no staff member could find by that name. The texts are UTF-16 hex in the
modules (their code page is 1252: tests/test_vba_static.py), decoded here as RenkeiText does."""

from __future__ import annotations

import re
from pathlib import Path

from renkei_xl.vba.sources import MACROS_DIR

SETUP = Path(__file__).resolve().parent.parent / "docs" / "staff-setup.md"
_HEX_CONST = re.compile(r'^(?:Private |Public )?Const (\w+) As String = "((?:[0-9A-F]{4})+)"', re.MULTILINE)


def _texts() -> dict[str, str]:
    out = {}
    for module in ("Renkei.bas", "RenkeiServer.bas"):
        for name, hexed in _HEX_CONST.findall((MACROS_DIR / module).read_text("ascii")):
            out[f"{module} {name}"] = bytes.fromhex(hexed).decode("utf-16-be")
    return out


def test_the_macros_name_the_setup_document_by_its_title_and_real_sections():
    setup = SETUP.read_text(encoding="utf-8")
    title = setup.splitlines()[0].removeprefix("# ").strip()
    sections = set(re.findall(r"^#{2,3} ([0-9]+(?:-[0-9]+)?)\. ", setup, re.MULTILINE))
    texts = _texts()
    assert texts, "no Japanese text found in the macros"
    stale = {name: text for name, text in texts.items() if "手順書" in text or re.search(r"[0-9] 章", text)}
    assert not stale, stale
    cited = {name: re.findall(rf"「{re.escape(title)}」の ([0-9・-]+)", text) for name, text in texts.items()}
    cited = {name: found for name, found in cited.items() if found}
    assert set(cited) >= {"Renkei.bas MSG_NO_PYTHON", "Renkei.bas MSG_NO_TOOL", "Renkei.bas MSG_NO_RUNPYTHON"}, cited
    for name, found in cited.items():
        for numbers in found:
            for number in numbers.split("・"):
                assert number in sections, (name, number, sorted(sections))


# A box's words as the setup document quotes them: 「<opening>（エラー番号 …）…」, the button's
# caption (or 「○○」) where the macro fills {0}.
_QUOTED_ERROR_BOX = re.compile(r"「((?:[^「」]|「[^「」]*」)*?)（エラー番号 …）")


def test_the_boxes_the_setup_document_quotes_open_with_the_macros_words():
    """Staff find what to do by the words of their box. The setup document quoted RunServerPython's
    and RenkeiRun's boxes by their opening; RenkeiRun's box names the button (「「評価を再計算」の
    マクロがエラーで止まりました」, RenkeiMacroFailed) while section 4 still quoted 「ボタンのマクロが
    エラーで止まりました」, which no box says. Each quoted opening before （エラー番号 …） is the
    opening of one of the macros' texts, with a button's caption, or 「○○」, for {0}."""
    from renkei_xl.core.contract import BUTTONS

    setup = SETUP.read_text(encoding="utf-8")
    quoted = _QUOTED_ERROR_BOX.findall(setup)
    assert len(quoted) >= 4, quoted
    openings = set()
    for text in _texts().values():
        if "（エラー番号 {1}" in text:
            opening = text.split("（エラー番号 ")[0]
            openings |= {opening.replace("{0}", name) for name in ["○○", *(caption for caption, _, _ in BUTTONS)]}
    assert not [q for q in quoted if q not in openings], sorted(openings)
