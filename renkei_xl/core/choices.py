"""The words staff pick from in 設定 and 指標, each defined once: 区分, 集計方法, 評価方法,
and the state words a 状態 cell offers (状態一覧).

Plain names, apart from what they mean: the records (renkei_xl.core.model) need a default
集計方法 and the 集計方法 table (renkei_xl.core.methods) needs the records' types, so both
import their names from here and neither imports the other for them. What a 集計方法 does
lives in methods.py, what an 評価方法 does in rules.py.
"""

# 区分 of a municipality in 設定.
CENTRAL_CITY = "中心市"
PARTNER = "連携市町村"
KINDS = (CENTRAL_CITY, PARTNER)

# 集計方法 (their behaviour: renkei_xl.core.methods.METHODS).
METHOD_SUM = "合計"
METHOD_PARTICIPANTS = "参加市町村数"
METHOD_CENTRAL = "中心市のみ"
METHOD_MANUAL = "手入力"
METHOD_RATIO = "比率"
METHOD_STATE = "状態"
METHOD_AUTO = "自動"

# 評価方法: optional override of the inferred rule. Empty means "infer".
RULE_RATIO = "比率"
RULE_PROGRESS = "進捗率"
RULE_STATE = "状態"
RULE_DEADLINE = "期限"
RULE_REFERENCE = "参考"
RULES = (RULE_RATIO, RULE_PROGRESS, RULE_STATE, RULE_DEADLINE, RULE_REFERENCE)

# State words of a report (SPEC 3), one definition for the list every state cell offers
# (状態一覧 in the master and in each input file) and for the rules that read them
# (values.POSITIVE_STATUS / NEGATIVE_STATUS): 「改善」 was accepted by the rules yet not in
# the list, so typing it drew 「一覧にない言葉です」. What the rules accept beyond the list
# is a spelling of a listed word (STATE_SPELLINGS: 「実施済み」 is 実施) or a word only a
# target states (TARGET_STATES, met by the same words reported back).
DONE_STATES = ("常時", "維持", "維持・改善", "改善", "開設", "実施", "開催", "策定", "検討完了", "構築", "完了",
               "達成", "開始")
NOT_DONE_STATES = ("未構築", "未実施", "実施なし", "未策定", "未開設", "未完了", "未達成", "未開始", "未開催",
                   "中止", "なし")
UNCOUNTED_STATE = "（未集計）"
STATE_CHOICES = DONE_STATES + NOT_DONE_STATES + (UNCOUNTED_STATE,)
# States a target keeps rather than reaches: a year beside one (「維持（2025年度まで）」) says how
# long it is kept, not by when it is reached (rules: a year it is not kept is ×).
KEPT_STATES = ("常時", "維持", "維持・改善")
# 「開設済み」「達成済み」 (the legend's word for ◎) spell a state reached, as 「実施済み」 does: only
# 実施・策定・構築 were read so, and 「開設済」 reported for 「開設」 was 「読めません」, the row －.
STATE_SPELLINGS = tuple(f"{word}{ending}" for word in DONE_STATES if word not in KEPT_STATES
                        for ending in ("済", "済み"))
TARGET_STATES = ("毎年度", "全市町村", "包括連携協定を締結している全企業", "現状値からの増加")


def canonical_state(word: str) -> str:
    """A state word without the 済・済み that only spells it (「策定済み」 is 策定, 「実施済」 is
    実施): the one reading of a spelling, for the rules and for 状態's roll-up alike."""
    for suffix in ("済み", "済"):
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)]
    return word
