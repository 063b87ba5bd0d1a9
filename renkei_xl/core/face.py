"""Which face a message is made for, and the words a message uses for the action it asks:
a button's (「「評価を再計算」を押して」) or the command line's (「renkei-xl recalc … を実行して」).

Apart from core.alerts, which fits a button's message to its box: most refusals need only
these words, and the commands' start-up path (recalc, validate) should not import the
box-fitting module and its NamedTuples (tests/test_startup.py).
"""

from __future__ import annotations

from contextvars import ContextVar

# Which face a message is made for: a button's click (set for each click by
# excel.buttons._as_button, on the PC's Python and on the server) or, unset, the command
# line. Most messages are made once in core and cycle and shown by every face, and the
# step they ask for is said in the face's own terms (``step``): the command line was told
# 「「評価を再計算」を押して」 after its own 「renkei-xl recalc …」, and history import, which no
# button runs, 「次に「評価を再計算」したときに」 with no command to type.
BY_BUTTON: ContextVar[bool] = ContextVar("renkei_by_button", default=False)


def by_button() -> bool:
    """Whether the message being made is a button's (BY_BUTTON)."""
    return BY_BUTTON.get()


def on_face(button: str, command: str) -> str:
    """``button`` in a button's message, else ``command``: the one choice of a face's words
    (``step`` for an action; this for any other wording that names a face's way)."""
    return button if BY_BUTTON.get() else command


def step(caption: str, command: str, then: str = "て") -> str:
    """The action a message asks for, as the face reading it does it: the button
    ``caption`` pressed on a button, ``command`` (with its file: command_line) run on the
    command line. ``then``: how the sentence goes on: "て" (…を押して), "" (…を押し、),
    "と" (…を押すと), "てください". The command is set off by a space from the words before
    it (「マスターで renkei-xl recalc …」), so that staff see where to start copying."""
    verb = ("押す", "押し") if BY_BUTTON.get() else ("実行する", "実行し")
    return on_face(f"「{caption}」を", f" {command} を") + (verb[0] if then == "と" else verb[1]) + then


# How a refusal asks for the same run again (「もう一度{again}ください」), where the words
# that refuse know no caption or command (a write plan's rules, core.contract's messages):
# a button's click is run again by its button, the command line's by its command.
AGAIN_BY_BUTTON, AGAIN_BY_COMMAND = "ボタンを押して", "実行して"


def again() -> str:
    """The run asked for again, in the face's words (AGAIN_BY_BUTTON, AGAIN_BY_COMMAND): the
    write plan's refusals were given them by each caller, and the rollover's button, which
    writes the new master as the command line does (workbook.session), said 「もう一度実行して」."""
    return on_face(AGAIN_BY_BUTTON, AGAIN_BY_COMMAND)
