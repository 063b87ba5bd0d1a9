"""``python -m renkei_xl.cli``: the same as the ``renkei-xl`` command."""

import sys

from . import main

sys.exit(main())
