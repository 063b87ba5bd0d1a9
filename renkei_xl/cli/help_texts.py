"""The help texts every subcommand shares, said once.

Apart from the command line's entry (renkei_xl.cli), which imports the subcommand
modules: a subcommand importing its help texts from there would run in a circle.
"""

MASTER_HELP = "マスターブック（.xlsx/.xlsm）"
SENDER_HELP = "差出人（既定: 設定シートの中心市のメールアドレス）"
FORCE_HELP = "既存のファイルを作り直す（バックアップを残す）"
# The samples core.reference.SAMPLES holds, named here so that parsing a command does not
# import the reference reader (tests/test_cli_evaluate.py checks they agree).
SAMPLE_NAMES = ("fy2023",)
