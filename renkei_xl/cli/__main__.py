"""``python -m renkei_xl.cli``: the same as the ``renkei-xl`` command."""

from . import run

run()
