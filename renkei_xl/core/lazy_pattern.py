"""A regular expression that is compiled where it is first used, not where it is defined.

Every command is a fresh Python, and a module-level ``re.compile`` is paid at every start
whether or not the run ever asks the pattern: on the FY2023 master, ``recalc`` compiled 64
patterns it never used (merged areas, array formulas, hidden rows, form controls, text
dates, a staff member's page header …), about 5 ms of a 95 ms process (docs/performance.md,
perf-111). Django defers its module-level patterns the same way (``_lazy_re_compile``).

``LazyPattern`` stands where the compiled pattern stood and is asked the same way
(``.search``, ``.fullmatch``, ``.finditer``, ``.sub`` …). The first such question compiles it
and keeps the compiled pattern's bound methods on the object, so every later call is one
attribute read, as cheap as on the compiled pattern itself. ``.pattern`` is the source text
from the start (a pattern built from another's text compiles neither). It is not a
``re.Pattern``: give it to no ``re.*`` function, ask it its methods.
"""

from __future__ import annotations

import re

# What a compiled pattern is asked; copied onto the object at its first use.
_ASKED = ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split",
          "scanner", "flags", "groups", "groupindex")


class LazyPattern:
    """``re.compile(pattern, flags)``, made on first use (see the module's docstring)."""

    def __init__(self, pattern, flags: int = 0):
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str):
        # Called only for a name the object does not hold yet: after the first use the
        # compiled pattern's methods are instance attributes and this is never reached.
        if name.startswith("__") or name not in _ASKED:
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self._flags)
        for asked in _ASKED:
            setattr(self, asked, getattr(compiled, asked))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"
