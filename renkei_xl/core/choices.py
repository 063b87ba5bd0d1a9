"""The words staff pick from in 設定 and 指標, each defined once: 区分, 集計方法, 評価方法.

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
