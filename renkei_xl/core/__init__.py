"""The pure core: values, rules, consolidation, validation, the contract and the write plan.

Nothing here imports an Excel library or an adapter (tests/test_purity.py reads this folder).
"""
