"""Which of the tool's workbooks a file is, told from what the tool writes into each, and
what to say when a command is given the wrong one.

Staff keep masters, the input workbooks they send out, the ones that come back and the
exported 確定版 side by side, often with similar names; handing one to the wrong command
is the most likely mistake. A message such as 「シート「設定」がありません」 is true but does
not help: it should say what the file is and which command takes it. One recognition
serves every command (renkei_xl.workbook.kind reads the file, cycle.collect the returns).

What marks each kind:
- input workbook (split): the custom document property RenkeiMunicipality
  (cycle.distribute.P_MUNICIPALITY), or, when a mail client dropped the properties, its
  two sheets: the municipality's and the hidden 選択肢 (defined here; split writes them);
- 確定版 (export): 一覧, with 集計 or alone, and nothing else (cycle.export writes a new
  workbook holding only those);
- master: 設定 or 指標; a master missing one of them is still a master, and the contract
  reader says what is missing;
- anything else is a workbook the tool did not make.
"""

# No ``from __future__ import annotations``: typing.NamedTuple compiles each string
# annotation (a ForwardRef), and the first compile() of a process builds the ast module's
# types, about 3 ms of every command (docs/performance.md).

from typing import NamedTuple, Sequence

from . import contract as c
from .face import on_face

MASTER, INPUT, CONFIRMED, FOREIGN = "master", "input", "confirmed", "foreign"
# What split writes into every input workbook (cycle.distribute takes them from here).
MUNICIPALITY_PROPERTY = "RenkeiMunicipality"
CHOICES_SHEET = c.INPUT_CHOICES
# 選択肢's A1, above the state words (split writes it; collect knows it as no note).
CHOICES_HEAD = "状態の選択肢"


class BookKind(NamedTuple):
    kind: str
    municipality: str = ""

    @property
    def what(self) -> str:
        """「これは…です」: what the file is, in the staff's words."""
        if self.kind == INPUT:
            who = self.municipality or "市町村"
            return f"これは{who}の入力用ファイル（配布用ファイル作成で作ったファイル）です"
        if self.kind == CONFIRMED:
            return "これは確定版（確定版を書き出しで作った、値だけの一覧）です"
        if self.kind == MASTER:
            return "これはマスターブックです"
        return (f"これは renkei-xl のマスターブックではありません（シート「{c.SETTINGS}」「{c.INDICATORS}」が"
                "ありません）")


def recognise(sheetnames: Sequence[str], municipality: str = "") -> BookKind:
    """``municipality``: the RenkeiMunicipality property, when the file has one."""
    names = list(sheetnames)
    if municipality:
        return BookKind(INPUT, municipality)
    if c.SETTINGS in names or c.INDICATORS in names:
        return BookKind(MASTER)
    if len(names) == 2 and CHOICES_SHEET in names:
        return BookKind(INPUT, next(n for n in names if n != CHOICES_SHEET))
    if c.LIST in names and set(names) <= {c.LIST, c.SUMMARY}:
        return BookKind(CONFIRMED)
    return BookKind(FOREIGN)


def not_a_master(kind: BookKind, file_name: str) -> str:
    """The message for a command that needs a master and was given ``kind``."""
    head = f"「{file_name}」: {kind.what}。"
    if kind.kind == INPUT:
        return (head + "取り込むには collect（回収ファイル取込）を使ってください"
                f"（例: renkei-xl collect マスター.xlsm {file_name}）。このコマンドにはマスターブックを指定してください")
    if kind.kind == CONFIRMED:
        return (head + "値だけのファイルなので、入力チェック・再計算・配布・取込には使えません。"
                "このコマンドには、確定版を書き出したマスターブックを指定してください")
    return head + "このコマンドにはマスターブックを指定してください（新しく作るには renkei-xl init）"


def not_a_return(kind: BookKind) -> str:
    """Why collect does not take ``kind`` as a returned file (None-like "" for an input)."""
    if kind.kind == MASTER:
        # the button collects its folder into the book clicked: no master is named there
        return (f"{kind.what}。回収ファイル取込には、市町村から戻った入力用ファイルを"
                + on_face(f"「{c.COLLECT_DIR}」フォルダーに入れてください（マスターはそのフォルダーから移してください）",
                          "指定してください（マスターは renkei-xl collect の最初に指定します）"))
    if kind.kind == CONFIRMED:
        return f"{kind.what}。回収ファイル取込には、市町村から戻った入力用ファイルを指定してください"
    return ""
