"""The five evaluation symbols: the one place their characters are typed.

A module of its own, importing nothing, because the modules below the records need them
too: values (what a cell refuses as looking like a symbol), the records (core.model, which
names every symbol by these names for the rest of the package), and the look system
(core.looks, each symbol's fill). In model they could not be reached from values without
an import cycle, so values typed ◎□× again.
"""

# Exactly as printed in the official list. They are compared as exact code points: NFKC
# would turn － (U+FF0D) into "-" and lose the difference between 評価不可 (－) and
# 評価時期前・未集計 (― U+2015).
ACHIEVED = "◎"        # 達成済み
NEARLY = "□"          # 概ね達成（閾値以上）
MISSED = "×"          # 達成不可
NOT_EVALUABLE = "－"   # 評価不可 (U+FF0D), also 基本KPI
NOT_YET = "―"          # 評価時期前・未集計 (U+2015)
SYMBOLS = (ACHIEVED, NEARLY, MISSED, NOT_YET, NOT_EVALUABLE)
EVALUABLE = (ACHIEVED, NEARLY, MISSED)   # what 達成割合 counts below its line (◎□×)
# The symbols as messages list them: the five in the legend's order (◎ □ × － ―), and the
# evaluable ones (◎□×) as 達成割合's line names them.
SYMBOLS_SAID = " ".join((ACHIEVED, NEARLY, MISSED, NOT_EVALUABLE, NOT_YET))
EVALUABLE_SAID = "".join(EVALUABLE)
