"""A button's message fits the message box every client shows it in (renkei_xl.core.alerts).

The rule is pure and checked here on its own; the buttons' real messages are checked where
the buttons run (test_buttons: 回収ファイル取込 with many refused files, 配布用ファイル作成 for
40 municipalities; test_answer_size: 入力チェック with hundreds of errors).
"""

from __future__ import annotations

import re

from renkei_xl.core.alerts import ALERT_CHARS, BUTTON_CHARS, ELLIPSIS, SERVER_NOTE_CHARS, Listing, alert_text, cut

CLOSING = "続けて「評価を再計算」を押してください。"


def test_the_budget_is_below_what_msgbox_shows_with_room_for_the_servers_note():
    assert ALERT_CHARS <= 1024 and BUTTON_CHARS + SERVER_NOTE_CHARS == ALERT_CHARS


def test_a_message_that_fits_is_given_whole():
    parts = ["頭", Listing(["・a", "・b"], "　…ほか {n} 件"), "", CLOSING]
    assert alert_text(parts) == "\n".join(["頭", "・a\n・b", "", CLOSING])


def test_a_cap_counts_the_rest_even_when_they_would_fit():
    text = alert_text([Listing([f"・{i}" for i in range(10)], "　…ほか {n} 件（シート「検証結果」）", cap=3)])
    assert text == "・0\n・1\n・2\n　…ほか 7 件（シート「検証結果」）"


def test_lists_give_way_each_keeping_a_share_and_the_closing_lines_stay():
    refused = [f"・資料{i:02d}.pdf: Excel ブック（.xlsx）ではないため、取り込みません（このフォルダーから移してください）"
               for i in range(24)]
    changed = [f"・小樽市!E{i} 04-1 実績値: {i} → {i + 1}" for i in range(2, 40)]
    text = alert_text(["回収フォルダー: 回収", "", "取り込めないファイル 24 件:", Listing(refused, "　…ほか {n} 件（もう一度押すと表示します）"),
                       "書き換えたセル 38 か所:", Listing(changed, "　…ほか {n} か所", cap=15), "",
                       CLOSING, "取り込みの記録はシート「取込履歴」にあります。"])
    assert len(text) <= BUTTON_CHARS
    assert text.endswith(f"{CLOSING}\n取り込みの記録はシート「取込履歴」にあります。")
    shown_refused = [line for line in text.split("\n") if line.startswith("・資料")]
    shown_changed = [line for line in text.split("\n") if line.startswith("・小樽市")]
    assert shown_refused == refused[:len(shown_refused)] and shown_refused
    assert shown_changed == changed[:len(shown_changed)] and shown_changed
    assert int(re.search(r"ほか (\d+) 件", text).group(1)) == 24 - len(shown_refused)
    assert int(re.search(r"ほか (\d+) か所", text).group(1)) == 38 - len(shown_changed)


def test_a_list_on_one_line_counts_its_rest_after_its_items():
    names = [f"市町村{i:02d}_2023年度_入力.xlsx" for i in range(40)]
    text = alert_text([Listing(names, "ほか {n} 件", head="40 件のファイルを取り込みました: ", sep="、", more_sep=" ")],
                      budget=200)
    assert len(text) <= 200 and text.startswith("40 件のファイルを取り込みました: 市町村00_2023年度_入力.xlsx、")
    shown = text.split(": ", 1)[1].split(" ほか ")[0].split("、")
    assert shown == names[:len(shown)] and text.endswith(f" ほか {40 - len(shown)} 件")
    assert alert_text([Listing(names, "ほか {n} 件", head="頭: ", sep="、")], budget=10) == "頭: ほか 40 件"


def test_an_empty_list_is_left_out():
    assert alert_text(["頭", Listing([], "ほか {n} 件"), CLOSING]) == f"頭\n{CLOSING}"


def test_a_text_too_long_by_itself_keeps_its_start_and_its_end():
    said = "設定!B4: " + "とても長い理由。" * 300 + "値を直接入力してください"
    text = alert_text([f"「入力チェック」を中止しました。\n\n{said}"])
    assert len(text) <= BUTTON_CHARS and ELLIPSIS in text
    assert text.startswith("「入力チェック」を中止しました。\n\n設定!B4: ") and text.endswith("値を直接入力してください")
    # a long middle part goes before the closing line does
    text = alert_text(["頭", said, "", CLOSING])
    assert len(text) <= BUTTON_CHARS and text.endswith(f"\n\n{CLOSING}") and text.startswith("頭\n設定!B4: ")


def test_cut_keeps_a_short_text_and_never_exceeds_its_limit():
    assert cut("短い", 10) == "短い"
    for limit in (0, 3, len(ELLIPSIS), len(ELLIPSIS) + 1, 50):
        assert len(cut("あ" * 100, limit)) <= limit


def test_the_budget_counts_as_msgbox_does_a_character_outside_the_bmp_twice():
    """VBA's strings are UTF-16: 𠮷 (a kanji of family names, U+20BB7) is two of MsgBox's
    characters. A message of such characters kept to the budget in Python's count showed
    up to twice the budget, and MsgBox dropped its end (the closing lines) without a sign."""
    from renkei_xl.core.values import cell_length

    names = [f"・𠮷田{'𠮷' * 20}{i}: 実績値が読めません" for i in range(40)]
    text = alert_text(["入力チェックが終わりました。", Listing(names, "　…ほか {n} 件（シート「検証結果」）"), "", CLOSING])
    assert cell_length(text) <= BUTTON_CHARS and text.endswith(CLOSING), cell_length(text)
    quoted = "取り込めません: 「" + "𠮷" * 700 + "」"
    for limit in (ALERT_CHARS, BUTTON_CHARS, len(ELLIPSIS) + 1, 3):
        assert cell_length(cut(quoted, limit)) <= limit
    assert cell_length(alert_text([quoted, CLOSING])) <= BUTTON_CHARS


def test_a_vital_lists_first_item_stays_and_a_long_fixed_line_is_cut_instead():
    """The cell staff must mend is the last thing a message gives up: a rollover of a master
    with one bad cell, in a folder with a long Japanese name, said 「入力エラーが 1 件
    ありました: …ほか 1 件」 (the error list had the longest head, so it went first at a tie)
    while a target's finding still showed."""
    errors = Listing(["　小樽市!E2 04-1: 実績値: 「約10件」は概数・見込みの表記です"], "　…ほか {n} 件", vital=True,
                     head="【注意】2023年度の評価には入力エラーが 1 件ありました（" + "長い説明" * 20 + "）:\n")
    past = Listing([f"　10-{i}: 目標値の年度は対象年度より前です" for i in range(13)], "　…ほか {n} 件", cap=10)
    path = "renkei-xl history import " + "連携事業フォルダ" * 90 + ".xlsm"
    text = alert_text(["作成しました", errors, path, past, CLOSING])
    assert len(text) <= BUTTON_CHARS and text.endswith(CLOSING)
    assert "小樽市!E2" in text and "…ほか 13 件" in text and ELLIPSIS in text
    # a vital list still gives way down to its first item, each other list keeping a share
    many = Listing([f"・小樽市!E{i}: 実績値が読めません" for i in range(2, 60)], "　…ほか {n} 件", vital=True)
    text = alert_text([many, past], budget=60)
    assert len(text) <= 60 and text.startswith("・小樽市!E2: 実績値が読めません\n　…ほか 57 件\n")


def test_details_go_first_and_a_files_place_stays_whole():
    """What staff need (where the new master is, the cell to mend, the command) stays whole;
    what was carried (Detail, said in full by the command line) goes first: a rollover with
    one input error and 13 targets past cut its first line, the new master's path on the
    share, to 「20」 (qa-149)."""
    from renkei_xl.core.alerts import Detail, Whole

    place = Whole("2024年度のマスターを作成しました: \\\\fs\\renkei\\" + "連携事業フォルダ\\" * 8 + "さっぽろ圏_2024年度_マスター.xlsm")
    carried = [Detail(f"・指標 80 件（事業・評価指標・目標値・集計方法・評価方法）をそのまま引き継ぎました{i}") for i in range(3)]
    errors = Listing(["　小樽市!E2 04-1: 実績値: 「約10件」は概数・見込みの表記です"], "　…ほか {n} 件", vital=True,
                     head="【注意】2023年度の評価には入力エラーが 1 件ありました:\n")
    command = Whole("　直したら renkei-xl history import " + "連携事業フォルダ/" * 12 + "さっぽろ圏_2024年度_マスター.xlsm で")
    past = Listing([f"　10-{i}: 目標値の年度は対象年度より前です" for i in range(13)], "　…ほか {n} 件", cap=10,
                   head="・目標の年度が過ぎている指標 13 件:\n")
    plain = "一覧・集計は、新しいマスターで「評価を再計算」を押すと作られます。" * 3
    text = alert_text([place, *carried, errors, command, past, plain, CLOSING], budget=600)
    assert len(text) <= 600 and text.startswith(place + "\n") and text.endswith(CLOSING), text
    assert command in text and "小樽市!E2" in text and "引き継ぎました" not in text, text
    assert "・目標の年度が過ぎている指標 13 件:\n" in text, text


def test_a_plain_line_is_left_out_rather_than_cut_to_a_stub():
    """Cut to a few characters (「20」), a line says nothing: it is left out, and its room
    goes to the others."""
    from renkei_xl.core.alerts import Whole

    said = "2024年度のマスターを作成しました: " + "フォルダ" * 20
    text = alert_text([said, Whole("renkei-xl history import " + "あ" * 300), CLOSING], budget=360)
    assert len(text) <= 360 and said[:5] not in text and text.endswith(CLOSING), text
