"""A static model of the compile errors Excel's VBA compiler raises and LibreOffice's does not.

Why: Excel compiles the whole VBA project at the first click that calls into it, and one
compile error anywhere stops every button of the master with 「コンパイル エラー」 before
anything runs. The tests run our VBA in LibreOffice's VBA mode, which compiles far more
leniently (a Variant variable passed to a ByRef String parameter, an undeclared name under
Option Explicit, a call with an argument too many, a misspelt member of a Workbook all get
through, the last never said under On Error Resume Next). This module reads the modules as
the master carries them (oletools' export of a built master), parses ours with the same
antlr4-vba grammar the syntax test uses (tests/test_vba_static.py), and holds every procedure
to these rules of the compiler, each reported with Excel's message:

- "Variable not defined" (Option Explicit) and "Sub or Function not defined": every name
  resolves to a local, the module's own declarations, a public name of a standard module of
  the master (xlwings' too; a Private one of another module does not), a module's name, or a
  name of VBA's and Excel's libraries listed in HOST_NAMES; a local used on a line above its
  Dim is not defined there (the stricter reading: Microsoft's reference does not say). "User-defined type not defined":
  an As clause names a type of VBA, of HOST_TYPES, a class module or an Enum/Type.
- "ByRef argument type mismatch": a bare variable (or an element of a declared array) passed
  to a ByRef parameter declared with another type (an untyped variable is a Variant); an
  expression, `(x)` or `CStr(x)` among them, is passed by value.
- "Wrong number of arguments or invalid property assignment", "Argument not optional",
  "Named argument not found" on calls to the project's own procedures (ours and xlwings'),
  and the argument counts of VBA's functions we call (VBA_ARITY).
- "Expected Function or variable" (a Sub used for a value, or assigned to), "Function call
  on left side of assignment must return Variant or Object" (another procedure's Function of a
  scalar type assigned to), "Expected array" (a scalar variable indexed: `Dim left As Long`
  hides VBA's Left).
- "Duplicate declaration in current scope" (a procedure's parameters, Dims and Consts; a
  module's variables, constants and procedures), "Ambiguous name detected" (two procedures of
  one name in a module), "Duplicate label", "Label not defined".
- "Assignment to constant not permitted" (a Const assigned, or a For loop's variable);
  "Constant expression required" (a Const, a fixed array's bounds, an Optional parameter's
  default using anything but literals, constants, enum members and operators).
- "Object required" (Set into a variable of a scalar type, or Set from a literal), "Type
  mismatch" (Set from a scalar variable or a Function declared with a scalar type), "Invalid
  use of object" (Nothing or New assigned without Set).
- "For Each control variable must be Variant or Object", and "For Each control variable on
  arrays must be Variant" (a declared array, a ParamArray, Split or Array).
- "Method or data member not found": a member of a variable declared as one of the master's
  class modules (xlwings' WebClient, WebRequest, ...) that the class lacks, and a member of a
  Workbook, Worksheet, Range, Window, Protection or Collection that is not in EXCEL_MEMBERS,
  the members we use, each checked against Microsoft's reference: on a typed variable, a
  global (ActiveWindow), past members whose type the reference gives (EXCEL_RETURNS:
  `cell.MergeArea.Rows.Count`, `ws.Cells(r, c).Value`, `rng.Font.Bold`, `rng.Borders(i).Color`),
  and in With blocks on these; "Named argument not found" for Excel's methods of EXCEL_PARAMS
  (`ws.Protect`, `ws.Unprotect`, `rng.FormatConditions.Add`).
- In xlwings' modules, only the procedures that call ours (renkei_xl.vba.sources writes those
  calls) are parsed, and only those calls checked, with "Sub or Function not defined" for a
  name spelled like ours (OUR_PREFIX) that no module has.

What it does not model (Excel's alone to say): members of Excel's objects reached through an
expression whose type it does not follow (`GetRange(wb, action).Font`, `ws.Parent`,
`wb.Worksheets.Count`: a type not in EXCEL_MEMBERS), argument
counts of Excel's methods and of VBA's functions not in VBA_ARITY, their argument types, types of expressions other
than a bare variable or a project Function's declared type, conversions that fail at run time
(Type mismatch 13), and #If branches (our modules have none).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field

# ------------------------------------------------------------------------- the host's names

# Names that resolve without a declaration: VBA's library (functions, constants, objects)
# and Excel's global members and object types, as our modules use them. A name added here
# must be one of VBA's or Excel's (docs.microsoft.com's VBA and Excel object model
# references): this list is what "Variable not defined" is checked against.
VBA_FUNCTIONS = {
    "abs", "array", "asc", "ascw", "cbool", "cbyte", "ccur", "cdate", "cdbl", "cdec", "chr", "chrw",
    "cint", "clng", "csng", "cstr", "cvar", "environ", "filelen", "format", "hex", "iif", "instr",
    "instrrev", "int", "isarray", "isdate", "isempty", "iserror", "ismissing", "isnull", "isnumeric",
    "isobject", "join", "lbound", "lcase", "left", "len", "ltrim", "mid", "msgbox", "now", "replace",
    "rgb", "right", "rtrim", "space", "split", "str", "strconv", "string", "trim", "typename",
    "ubound", "ucase", "val", "vartype", "fix", "round", "sgn", "timer", "dir", "createobject",
    "getobject", "inputbox", "doevents", "err", "debug", "vba",
}
# (fewest, most) arguments of VBA's functions our modules call, from their syntax in Microsoft's
# VBA reference (Language/Reference/User-Interface-Help/<name>-function.md; the conversion
# functions take one expression): a call outside is "Argument not optional" or "Wrong number
# of arguments" when Excel compiles it.
VBA_ARITY = {
    "abs": (1, 1), "array": (0, None), "asc": (1, 1), "ascw": (1, 1), "cbool": (1, 1), "cdbl": (1, 1),
    "cint": (1, 1), "clng": (1, 1), "cstr": (1, 1), "chr": (1, 1), "chrw": (1, 1), "hex": (1, 1), "iif": (3, 3),
    "instr": (2, 4), "int": (1, 1), "isempty": (1, 1), "isnull": (1, 1), "lbound": (1, 2), "ubound": (1, 2),
    "lcase": (1, 1), "ucase": (1, 1), "left": (2, 2), "right": (2, 2), "len": (1, 1), "mid": (2, 3),
    "msgbox": (1, 5), "replace": (3, 6), "split": (1, 4), "string": (2, 2), "trim": (1, 1), "vartype": (1, 1),
}
VBA_CONSTANTS = {
    "vbcritical", "vbexclamation", "vbinformation", "vbquestion", "vbokonly", "vbokcancel", "vbyesno",
    "vbyes", "vbno", "vbok", "vbcancel", "vblf", "vbcr", "vbcrlf", "vbnewline", "vbtab", "vbnullstring",
    "vbempty", "vbnull", "vbinteger", "vblong", "vbsingle", "vbdouble", "vbcurrency", "vbdate",
    "vbstring", "vbobject", "vberror", "vbboolean", "vbvariant", "vbdecimal", "vbbyte", "vbarray",
    "vbbinarycompare", "vbtextcompare", "vbobjecterror", "vbunicode", "vbfromunicode",
}
EXCEL_GLOBALS = {
    "application", "thisworkbook", "activeworkbook", "activesheet", "activewindow", "activecell",
    "workbooks", "worksheets", "sheets", "range", "cells", "selection", "names", "rows", "columns",
}
# Types an As clause may name besides VBA's own (BUILTIN_TYPES) and the master's modules.
HOST_TYPES = {
    "collection", "workbook", "worksheet", "range", "chart", "shape", "window", "name", "errobject",
}
HOST_NAMES = VBA_FUNCTIONS | VBA_CONSTANTS | EXCEL_GLOBALS
# The members of Excel's (and VBA's Collection's) objects our modules use on a variable declared
# with that type, early bound: Excel's compiler refuses a member its type library lacks
# ("Method or data member not found"), where LibreOffice looks it up at run time, and under On
# Error Resume Next (RenkeiUnready, RenkeiBookState) never says. Each one checked against
# Microsoft's Excel VBA reference (MicrosoftDocs/VBA-Docs, api/Excel.<Type>.<Member>.md); a
# member not listed is a finding until it is checked there and added.
EXCEL_MEMBERS = {
    "workbook": {"activate", "fullname", "multiuserediting", "name", "names", "protectstructure", "readonly",
                 "saved", "sheets", "worksheets"},
    "worksheet": {"activate", "autofiltermode", "cells", "chartobjects", "columns", "hpagebreaks", "name", "parent", "protect",
                  "protectcontents", "protectdrawingobjects", "protection", "protectscenarios", "range",
                  "resetallpagebreaks", "rows", "shapes", "unprotect", "usedrange", "visible"},
    "range": {"address", "autofilter", "borders", "cells", "column", "columns", "columnwidth", "count",
              "currentarray", "font", "formatconditions", "formula", "hasarray", "hasformula", "left", "mergearea",
              "mergecells", "numberformat", "row", "rows", "top", "value", "value2", "width"},
    "protection": {"allowformattingcells", "allowformattingcolumns", "allowformattingrows", "allowinsertingcolumns",
                   "allowinsertingrows", "allowinsertinghyperlinks", "allowdeletingcolumns", "allowdeletingrows",
                   "allowsorting", "allowfiltering", "allowusingpivottables"},
    "window": {"freezepanes", "selectedsheets", "split", "scrollrow", "scrollcolumn", "splitrow", "splitcolumn",
               "view"},
    "collection": {"add", "count", "item", "remove"},
    "font": {"bold", "color", "italic", "name", "size", "underline"},
    "border": {"color", "linestyle", "weight"},
    "formatconditions": {"add", "adddatabar", "delete"},
}
# The named arguments of Excel's methods our modules name (Microsoft's reference, each method's
# Parameters): early bound, a name the method lacks is "Named argument not found" when Excel
# compiles (LibreOffice raises 448 at run time, which RenkeiProtect takes for its missing Allow*).
EXCEL_PARAMS = {
    ("worksheet", "protect"): ["password", "drawingobjects", "contents", "scenarios", "userinterfaceonly",
                               "allowformattingcells", "allowformattingcolumns", "allowformattingrows",
                               "allowinsertingcolumns", "allowinsertingrows", "allowinsertinghyperlinks",
                               "allowdeletingcolumns", "allowdeletingrows", "allowsorting", "allowfiltering",
                               "allowusingpivottables"],
    ("worksheet", "unprotect"): ["password"],
    ("formatconditions", "add"): ["type", "operator", "formula1", "formula2"],
}
# The type of a member's object where Excel's reference gives one the checks above know (a member
# access past a typed variable is checked against it), and of the globals our modules use.
EXCEL_RETURNS = {("worksheet", "usedrange"): "range", ("worksheet", "protection"): "protection",
                 ("worksheet", "range"): "range", ("worksheet", "cells"): "range", ("worksheet", "rows"): "range",
                 ("worksheet", "columns"): "range", ("range", "cells"): "range", ("range", "rows"): "range",
                 ("range", "columns"): "range", ("range", "mergearea"): "range", ("range", "currentarray"): "range",
                 ("range", "font"): "font", ("range", "borders"): "borders",
                 ("range", "formatconditions"): "formatconditions"}
GLOBAL_TYPES = {"activewindow": "window", "thisworkbook": "workbook", "activeworkbook": "workbook"}

BUILTIN_TYPES = {"boolean", "byte", "currency", "date", "double", "integer", "long", "longlong",
                 "longptr", "object", "single", "string", "variant", "decimal"}
SCALAR_TYPES = BUILTIN_TYPES - {"object", "variant"}
ARRAY_FUNCTIONS = {"split", "array"}
# Our procedures' names start so: in xlwings' modules, a call of a name so spelled that no module
# has is one renkei_xl.vba.sources wrote to a procedure of ours that is gone.
OUR_PREFIX = "renkei"


# ------------------------------------------------------------------------------- the model

@dataclass
class Param:
    name: str
    type: str = "variant"          # lower case
    byval: bool = False
    optional: bool = False
    paramarray: bool = False
    array: bool = False


@dataclass
class Proc:
    module: str
    name: str
    kind: str                      # "sub", "function", "property get", "property let", "property set"
    params: list[Param]
    returns: str = "variant"
    public: bool = True
    line: int = 0
    node: object = None            # the ProcedureDeclaration's context (our modules only)


@dataclass
class Var:
    name: str
    type: str = "variant"
    array: bool = False
    const: bool = False
    line: int = 0


@dataclass
class Module:
    name: str
    kind: str                      # "bas" or "cls"
    explicit: bool = False
    procs: dict[str, list[Proc]] = field(default_factory=dict)
    vars: dict[str, Var] = field(default_factory=dict)      # module level, any scope
    public: set[str] = field(default_factory=set)            # lower-case names other modules see
    types: set[str] = field(default_factory=set)             # Enum and Type names
    members: set[str] = field(default_factory=set)           # a class's public members
    findings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- parsing

_PROCEDURE = re.compile(r"(?:(?:Public|Private|Friend)\s+)?(?:Static\s+)?(?:Sub|Function|Property\s+(?:Get|Let|Set))\s", re.I)


@dataclass
class Unit:
    start: int                     # the 0-based index of the unit's first module line
    tree: object
    errors: list[str]
    second_stage: bool = False     # the first stage bailed: parsed again in LL (a syntax error, or a slow unit)

    def line(self, unit_line: int) -> int:
        """The module's own line number of a line of this unit."""
        return unit_line if unit_line == 1 else self.start + unit_line - 1


# The data stack of the parse (why: _roomy_stack's docstring).
_ROOMY_LOCALS = 65_530
_roomy = {"active": False, "run": None}


def _roomy_stack(function):
    """function run above one frame of 65,530 locals, so that the frames it calls share one
    chunk of Python's data stack. Why: CPython (3.11 on) keeps frames in chunks of 16 KiB and
    frees a chunk as soon as the frames in it return; ANTLR's prediction
    (ParserATNSimulator.closure) recurses up and down across a chunk's edge hundreds of
    thousands of times a module, each time an mmap, a munmap and fresh pages: of the 13 s of
    CPU that parsing and checking the master's modules took, 2.4 s were the kernel's (300,000
    mmap/munmap pairs of 16 KiB, 358,000 page faults). A frame this big gets a chunk of 1 MiB
    of its own, half of it free above the frame: the parse's frames stay in it (0.06 s of the
    kernel's, 7,500 faults). Calls within one such call run in it; on a Python that allocates
    frames otherwise only a frame's locals are spent. Nothing of the parse changes."""
    @functools.wraps(function)
    def roomy(*args, **kwargs):
        if _roomy["active"]:
            return function(*args, **kwargs)
        if _roomy["run"] is None:
            names = " = ".join(f"_{i}" for i in range(_ROOMY_LOCALS))
            space: dict = {}
            exec(compile(f"def run(call):\n    if False:\n        {names} = None\n    return call()\n",
                         "<vba_compile roomy frame>", "exec"), space)
            _roomy["run"] = space["run"]
        _roomy["active"] = True
        try:
            return _roomy["run"](lambda: function(*args, **kwargs))
        finally:
            _roomy["active"] = False
    return roomy


@functools.lru_cache(maxsize=16)
def parse_units(name: str, source: str) -> tuple[Unit, ...]:
    """The module parsed a unit at a time (see tests/test_vba_static.vba_syntax_errors, which
    shares this parse): the declarations, then each procedure, each after the module's first
    line. SLL first (but for the decisions of _FULL_CONTEXT_RULES, and expression's loop where
    SLL conflicts; the others from their caller's return state, _CALLER_DFAS), bailing at its first syntax error; only a unit that
    bails is parsed in LL. Cached per source: the tests of one
    process parse a module once."""
    return _parse_units(name, source)


# The rules whose loop decision the first (SLL) stage predicts with the parser's real context,
# as ANTLR's LL stage does, instead of SLL's global FOLLOW. Why: in SLL a decision's prediction
# ignores where the rule was called from, and for these two that makes it look far ahead:
# - positionalParameters' loop ("another parameter, or the list ends?") at each comma: its
#   FOLLOW includes propertyParameters' `, valueParam )`, so SLL keeps both alternatives alive
#   through the whole procedure body, to its `End Sub`/`End Function` (against `End Property`).
#   In RenkeiServer.bas that was 5.7 s of CPU, of a 30 s parse, on a fresh clone;
#   with the caller's context the comma is decided at the next token.
# - lExpression's loop ("another .member or (arguments), or the expression ends?"): SLL
#   conflicts there and picks the lowest alternative, which is wrong in 13 of RenkeiServer.bas'
#   procedures (a call statement's `Foo (x)`), so each of those bailed and was parsed again in
#   LL. Predicted with context, all but one parse in the first stage; the prediction costs no
#   more than SLL's.
# The parse is the grammar's all the same (a unit the first stage parses is a derivation of the
# grammar: any syntax error bails to the standard LL stage, which reports it as before), and the
# trees of our modules are the ones the plain two stages built. Measured, not reasoned: every
# other decision made full-context costs more than it saves (all of them: 85 s).
_FULL_CONTEXT_RULES = ("positionalParameters", "lExpression")


# Every other decision of the first stage (but the left-recursive expression's, whose start
# state depends on the operator's precedence) is predicted in SLL from its caller's return state:
# a DFA per (decision, the state the current rule returns to), its start state's closure leaving
# the rule into that caller and only past it into SLL's global FOLLOW. Why: SLL's global FOLLOW
# makes statementBlock's loop ("another statement, or the block ends?") look far ahead at the
# body of a procedure: the block could end there in explicitForStatement, before a nested loop
# closed by `Next j, i`, so at each `For`/`For Each` statement of a procedure's body SLL kept both
# alternatives alive to that loop's `Next` (870 tokens in RenkeiServer.bas; 12 of its 22 s of
# CPU). From procedureBody's return state the block ends only at `End Sub`/`End Function`, and
# the statement is decided at the next token. The prediction stays SLL's (its configurations a
# subset of SLL's, the DFA cached per caller and shared by all parsers, the DFA states' edges
# reused across units and modules), and one level of context was the fastest measured (two
# levels: more DFAs to build, each used less).
_CALLER_DFAS: dict[tuple[int, int], object] = {}
# A full-context prediction's start configurations per (decision state, invoking states up to
# the start rule, the parser's current precedence): FirstStage.computeStartState says why.
_FULL_START_STATES: dict[tuple, object] = {}


@functools.lru_cache(maxsize=1)
def _first_stage_simulator():
    """ANTLR's ParserATNSimulator, predicting _FULL_CONTEXT_RULES' loop decisions with full
    context (what its LL fallback does on an SLL conflict, here from the start) and the others
    in SLL from the caller's return state (_CALLER_DFAS); None where the runtime lacks the
    methods this relies on (then the first stage is plain SLL, as before)."""
    from antlr4.atn.ATNConfig import ATNConfig
    from antlr4.atn.ATNConfigSet import ATNConfigSet
    from antlr4.atn.ATNState import StarLoopEntryState
    from antlr4.atn.ParserATNSimulator import ParserATNSimulator
    from antlr4.atn.PredictionMode import PredictionMode
    from antlr4.dfa.DFA import DFA
    from antlr4.dfa.DFAState import DFAState
    from antlr4.PredictionContext import PredictionContext, SingletonPredictionContext
    from antlr4_vba.vbaParser import vbaParser

    needed = ("computeStartState", "execATNWithFullContext", "execATN", "closure", "addDFAState")
    if not all(hasattr(ParserATNSimulator, m) for m in needed):
        return None
    atn = vbaParser.atn
    rules = {vbaParser.ruleNames.index(rule) for rule in _FULL_CONTEXT_RULES}
    full = frozenset(decision for decision, state in enumerate(atn.decisionToState)
                     if state.ruleIndex in rules and isinstance(state, StarLoopEntryState))
    precedence = frozenset(dfa.decision for dfa in vbaParser.decisionsToDFA if dfa.precedenceDfa)
    loops = frozenset(decision for decision, state in enumerate(atn.decisionToState)
                      if vbaParser.ruleNames[state.ruleIndex] in ("forStatement", "forEachStatement"))
    P = vbaParser
    EOF, FOR, NEXT, COMMA, NEWLINE = P.EOF, P.FOR, P.NEXT, P.COMMA, P.NEWLINE  # noqa: N806 (ANTLR's names)
    BLANK = frozenset((P.WS, P.LINE_CONTINUATION))                           # noqa: N806
    LINE_END = frozenset((P.EOF, P.NEWLINE, P.COLON, P.COMMENT, P.REMCOMMENT, P.ELSE))   # noqa: N806
    STATEMENT_START = frozenset((P.NEWLINE, P.COLON, P.THEN, P.ELSE))      # noqa: N806

    class FirstStage(ParserATNSimulator):
        def adaptivePredict(self, input, decision, outerContext):  # noqa: A002, N802 (ANTLR's names)
            if decision in precedence and decision not in full:    # lExpression's loop is in both
                # expression's loop ("another operator, or the expression ends?") as ANTLR's LL
                # stage predicts it: SLL, and only where SLL conflicts, full context. Why: in SLL
                # `If TypeOf Selection Is Range Then` (xlwings' Remote.bas, whose RunServerPython
                # check_project parses for its calls of ours) read `Selection Is Range` as an Is
                # comparison, the TypeOf found no `Is` after it and the first stage bailed: the
                # 340-line unit was parsed again in LL, 9-10 s of CPU. With its context the
                # expression ends before `Is`; our modules' parses cost the same, trees unchanged.
                self.predictionMode = PredictionMode.LL
                try:
                    return super().adaptivePredict(input, decision, outerContext)
                finally:
                    self.predictionMode = PredictionMode.SLL
            mark, index = input.mark(), input.index
            try:
                if decision in full:
                    dfa = self.decisionToDFA[decision]
                    self._input, self._startIndex, self._outerContext, self._dfa = input, index, outerContext, dfa
                    start = self.computeStartState(dfa.atnStartState, outerContext, True)
                    return self.execATNWithFullContext(dfa, None, start, input, index, outerContext)
                if decision in loops:
                    alt = self._loop_end(input)
                    if alt is not None:
                        return alt
                dfa = self._caller_dfa(decision, outerContext)
                self._input, self._startIndex, self._outerContext, self._dfa = input, index, outerContext, dfa
                return self.execATN(dfa, dfa.s0, input, index, outerContext)
            finally:
                self._dfa = None
                self.mergeCache = None
                input.seek(index)
                input.release(mark)

        def computeStartState(self, p, ctx, fullCtx):  # noqa: N802, N803 (ANTLR's names)
            """A full-context prediction's start configurations made once per decision, rule
            invocation stack and current precedence (_FULL_START_STATES), SLL's as ANTLR makes
            them. Why: every full-context prediction (lExpression's and positionalParameters'
            loops, expression's where SLL conflicts) began with the closure of the decision
            through its whole invocation stack, a third of the parse's CPU, and most statements
            of a module sit at the same few depths. That closure reads nothing else: the stack
            as PredictionContextFromRuleContext reads it (each invoking state up to the start
            rule), the ATN, and the grammar's only predicates, precedence predicates, which the
            parser answers from the top of its precedence stack. The configurations are read,
            never changed, by the prediction that follows (execATNWithFullContext)."""
            if not fullCtx:
                return super().computeStartState(p, ctx, fullCtx)
            stack, node = [], ctx
            while node is not None and node.parentCtx is not None:
                stack.append(node.invokingState)
                node = node.parentCtx
            precedence = self.parser._precedenceStack[-1] if self.parser._precedenceStack else None
            key = (p.stateNumber, tuple(stack), precedence)
            configs = _FULL_START_STATES.get(key)
            if configs is None:
                configs = _FULL_START_STATES[key] = super().computeStartState(p, ctx, fullCtx)
            return configs

        def _loop_end(self, input) -> int | None:  # noqa: A002 (ANTLR's name)
            """forStatement's and forEachStatement's alternative read off the tokens: 1 (simple)
            when the loop's own `Next` names no variable, 2 (explicit) when it does; None when
            no `Next` closes it (ANTLR predicts then). The loop's `Next` is found by counting the
            For statements opened and the loops each `Next` closes (`Next j, i`: two)."""
            depth, previous, k = 0, NEWLINE, 2
            while True:
                token = input.LT(k).type
                if token == EOF:
                    return None
                if token in (FOR, NEXT) and previous in STATEMENT_START:
                    if token == FOR:
                        depth += 1
                    else:
                        names, named = 1, False
                        while (after := input.LT(k + 1).type) not in LINE_END:
                            k += 1
                            named = named or after not in BLANK
                            names += after == COMMA
                        if depth < names:
                            return 2 if named else 1
                        depth -= names
                if token not in BLANK:
                    previous = token
                k += 1

        def _caller_dfa(self, decision: int, outerContext):  # noqa: N803 (ANTLR's name)
            """The decision's DFA from the current rule's caller, its start state made once."""
            returns = PredictionContext.EMPTY_RETURN_STATE
            if outerContext is not None and outerContext.parentCtx is not None:
                returns = atn.states[outerContext.invokingState].transitions[0].followState.stateNumber
            dfa = _CALLER_DFAS.get((decision, returns))
            if dfa is None:
                dfa = DFA(atn.decisionToState[decision], decision)
                context = PredictionContext.EMPTY
                if returns != PredictionContext.EMPTY_RETURN_STATE:
                    context = SingletonPredictionContext.create(PredictionContext.EMPTY, returns)
                configs = ATNConfigSet(False)
                for alt, transition in enumerate(dfa.atnStartState.transitions, 1):
                    self.closure(ATNConfig(transition.target, alt, context), configs, set(), True, False, False)
                dfa.s0 = self.addDFAState(dfa, DFAState(configs=configs))
                _CALLER_DFAS[decision, returns] = dfa
            return dfa

    return FirstStage


@_roomy_stack
def _parse_units(name: str, source: str) -> tuple[Unit, ...]:
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.atn.PredictionMode import PredictionMode
    from antlr4.error.ErrorListener import ErrorListener
    from antlr4.error.ErrorStrategy import BailErrorStrategy
    from antlr4.error.Errors import ParseCancellationException
    from antlr4_vba.vbaLexer import vbaLexer
    from antlr4_vba.vbaParser import vbaParser

    lines = source.split("\r\n")
    starts = [i for i, line in enumerate(lines) if i and _PROCEDURE.match(line)]
    bounds = [1, *starts, len(lines)]
    first_stage = _first_stage_simulator()

    class Errors(ErrorListener):
        def __init__(self, start: int):
            self.start = start
            self.found: list[str] = []

        def syntaxError(self, recognizer, offending, line, column, msg, e):  # noqa: N802 (ANTLR's name)
            at = line if line == 1 else self.start + line - 1
            self.found.append(f"{name}:{at}:{column} {msg[:200]}")

    def parse(text: str, start: int, mode):
        errors = Errors(start)
        lexer = vbaLexer(InputStream(text))
        lexer.removeErrorListeners()
        lexer.addErrorListener(errors)
        parser = vbaParser(CommonTokenStream(lexer))
        parser.removeErrorListeners()
        if mode == PredictionMode.SLL and first_stage is not None:
            interp = parser._interp
            parser._interp = first_stage(parser, parser.atn, interp.decisionToDFA, interp.sharedContextCache)
        parser._interp.predictionMode = mode
        if mode == PredictionMode.SLL:
            parser._errHandler = BailErrorStrategy()
        else:
            parser.addErrorListener(errors)
        tree = parser.startRule()
        return Unit(start, tree, errors.found, mode == PredictionMode.LL)

    units = []
    for start, end in zip(bounds, bounds[1:]):
        if start == end:
            continue
        text = "\r\n".join([lines[0], *lines[start:end]]) + "\r\n"
        try:
            units.append(parse(text, start, PredictionMode.SLL))
        except ParseCancellationException:
            units.append(parse(text, start, PredictionMode.LL))
    return tuple(units)


def _kind(ctx) -> str:
    return type(ctx).__name__[:-len("Context")]


def _children(ctx) -> list:
    return list(ctx.children) if getattr(ctx, "children", None) else []


_RULE_KINDS: dict[type, str | None] = {}     # a node's class -> its rule's kind (None: a token)


def _walk(ctx, *kinds: str, into: tuple[str, ...] = ()):
    """Descendants of ctx of the given kinds (not looking inside a found one unless its kind is
    in into), in the tree's order. With a stack of its own rather than nested generators: a
    node deep in a procedure's tree was handed up through every generator above it, and the
    compile checks walk each procedure many times (half the CPU of check_project)."""
    end = object()
    stack = [iter(_children(ctx))]
    while stack:
        child = next(stack[-1], end)
        if child is end:
            stack.pop()
            continue
        cls = type(child)
        if cls not in _RULE_KINDS:
            _RULE_KINDS[cls] = _kind(child) if hasattr(child, "getRuleIndex") else None
        k = _RULE_KINDS[cls]
        if k is None:
            continue
        if k in kinds:
            yield child
            if k not in into:
                continue
        stack.append(iter(child.children or ()))


def _first(ctx, *kinds: str):
    return next(_walk(ctx, *kinds), None)


def _text(ctx) -> str:
    return ctx.getText()


def _line(unit: Unit, ctx) -> int:
    return unit.line(ctx.start.line)


def _type_of(ctx) -> str:
    """The type an As clause (or ParameterType, FunctionType) names, lower case."""
    t = re.sub(r"^\(\s*\)", "", _text(ctx).strip()).strip()
    t = re.sub(r"^As\s+", "", t, flags=re.I)
    t = re.sub(r"^New\s+", "", t, flags=re.I)
    t = re.sub(r"\s*\(\s*\)$", "", t)
    t = t.split("*")[0].strip()
    return (t or "variant").lower()


_SUFFIX = {"%": "integer", "&": "long", "!": "single", "#": "double", "@": "currency", "$": "string", "^": "longlong"}


def _typed(ctx, as_rule: str) -> tuple[str, str]:
    """A declared name and its type: the As clause's (``as_rule``), else the name's type
    character (TypedName), else Variant. One reading for a variable and a constant."""
    name = _text(_first(ctx, "AmbiguousIdentifier", "TypedName"))
    vtype = "variant"
    if name and name[-1] in _SUFFIX:
        name, vtype = name[:-1], _SUFFIX[name[-1]]
    as_clause = _first(ctx, as_rule)
    if as_clause is not None:
        vtype = _type_of(as_clause)
    return name, vtype


def _declared(dcl) -> Var:
    """A Var of a VariableDcl (TypedVariableDcl: name with a type character)."""
    name, vtype = _typed(dcl, "AsClause")
    return Var(name, vtype, array=_first(dcl, "ArrayClause", "ArrayDim") is not None)


def _param(ctx) -> Param:
    dcl = _first(ctx, "ParamDcl") or ctx
    name_ctx = _first(dcl, "AmbiguousIdentifier", "TypedName")
    name = _text(name_ctx)
    ptype = "variant"
    if name and name[-1] in _SUFFIX:
        name, ptype = name[:-1], _SUFFIX[name[-1]]
    ptype_ctx = _first(dcl, "ParameterType")
    if ptype_ctx is not None:
        ptype = _type_of(ptype_ctx)
    mech = _first(ctx, "ParameterMechanism")
    return Param(name=name, type=ptype, byval=mech is not None and _text(mech).lower() == "byval",
                 optional=_kind(ctx) == "OptionalParam", paramarray=_kind(ctx) == "ParamArray",
                 array=_kind(ctx) == "ParamArray" or bool(re.search(r"\(\s*\)", _text(dcl))))


def _procedure(module: str, unit: Unit, decl) -> Proc:
    inner = _children(decl)[0]
    kind = {"SubroutineDeclaration": "sub", "FunctionDeclaration": "function",
            "PropertyGetDeclaration": "property get"}.get(_kind(inner))
    head = _text(inner).split("(")[0].lower()
    if kind is None:
        kind = "property set" if re.search(r"property\s*set", head) else "property let"
    name_ctx = _first(inner, "SubroutineName", "FunctionName", "PrefixedName", "AmbiguousIdentifier")
    name = _text(name_ctx)
    returns = "variant"
    if name and name[-1] in _SUFFIX:
        name, returns = name[:-1], _SUFFIX[name[-1]]
    ftype = next((c for c in _children(inner) if hasattr(c, "getRuleIndex") and _kind(c) == "FunctionType"), None)
    if ftype is not None:
        returns = _type_of(ftype)
    params_ctx = next((c for c in _children(inner) if hasattr(c, "getRuleIndex")
                       and _kind(c) in ("ProcedureParameters", "PropertyParameters")), None)
    params = [] if params_ctx is None else [
        _param(p) for p in _walk(params_ctx, "PositionalParam", "OptionalParam", "ParamArray", "ValueParam")]
    scope = _first(inner, "ProcedureScope")
    public = scope is None or _text(scope).lower() in ("public", "friend", "global")
    return Proc(module, name, kind, params, returns, public, _line(unit, decl), decl)


def _enum_and_type_names(decl, module: Module) -> None:
    for enum in _walk(decl, "EnumDeclaration"):
        ident = _first(enum, "AmbiguousIdentifier")
        module.types.add(_text(ident).lower())
        for member in _walk(enum, "EnumMember"):
            n = _text(_first(member, "AmbiguousIdentifier", "UntypedName"))
            module.vars[n.lower()] = Var(n, "long", const=True)
    for udt in _walk(decl, "UdtDeclaration"):
        module.types.add(_text(_first(udt, "AmbiguousIdentifier", "UntypedName")).lower())


def read_module(name: str, source: str) -> tuple[Module, tuple[Unit, ...]]:
    """One of our modules, whole: declarations and procedures from the grammar."""
    kind = name.rsplit(".", 1)[-1].lower()
    module = Module(name.rsplit(".", 1)[0], kind)
    units = parse_units(name, source)
    for unit in units:
        for option in _walk(unit.tree, "OptionExplicitDirective"):
            module.explicit = True
        for decl in _walk(unit.tree, "ProcedureDeclaration"):
            proc = _procedure(module.name, unit, decl)
            same = module.procs.setdefault(proc.name.lower(), [])
            if any(p.kind == proc.kind or "property" not in p.kind or "property" not in proc.kind for p in same):
                module.findings.append(f"{name}:{proc.line} Ambiguous name detected: {proc.name}")
            same.append(proc)
            if proc.public:
                module.public.add(proc.name.lower())
        for element in _walk(unit.tree, "ProceduralModuleDeclarationElement", "ClassModuleDeclarationElement"):
            text = _text(element).lower()
            public = text.startswith(("public", "global"))
            for dcl in _walk(element, "VariableDcl", "WitheventsVariableDcl"):
                var = _declared(dcl)
                var.line = _line(unit, dcl)
                _declare(module.vars, var, module, name)
                if public:
                    module.public.add(var.name.lower())
            for item in _walk(element, "ConstItem"):
                var = _const(item)
                var.line = _line(unit, item)
                _declare(module.vars, var, module, name)
                if public:
                    module.public.add(var.name.lower())
            _enum_and_type_names(element, module)
            if not text.startswith("private"):
                module.public |= module.types
    for key in sorted(set(module.vars) & set(module.procs)):
        module.findings.append(f"{name}:{module.vars[key].line} Duplicate declaration in current scope: "
                               f"{module.vars[key].name} is a procedure of the module too")
    return module, units


def _declare(scope: dict[str, Var], var: Var, module: Module, where: str) -> None:
    key = var.name.lower()
    if key in scope:
        module.findings.append(f"{where}:{var.line} Duplicate declaration in current scope: {var.name}")
    scope[key] = var


def _const(item) -> Var:
    name, ctype = _typed(item, "ConstAsClause")
    return Var(name, ctype, const=True)


# The signatures of a module we do not parse whole (xlwings'): each procedure's header, alone,
# through the same grammar; the module's public names besides, by its declaration lines.
_CONTINUED = re.compile(r"[ \t]_\r?$")
_MODULE_NAME = re.compile(r'^Attribute VB_Name = "([^"]+)"', re.M)


def _logical(source: str) -> list[tuple[int, str]]:
    out, current, start = [], [], 1
    for number, line in enumerate(source.split("\r\n"), start=1):
        if not current:
            start = number
        current.append(line)
        if not _CONTINUED.search(re.sub(r"'.*$", "", line) if '"' not in line else line):
            out.append((start, " ".join(p.rstrip()[:-1] if _CONTINUED.search(p) else p for p in current)))
            current = []
    return out


def _module_name(file_name: str, source: str) -> str:
    """The module's name as VBA knows it (its Attribute VB_Name), else its file's."""
    m = _MODULE_NAME.search(source)
    return m.group(1) if m else file_name.rsplit(".", 1)[0]


def read_signatures(file_name: str, source: str) -> Module:
    """A module of the master's that we call into (or read the class of), as the compiler sees
    its outside: its public procedures' parameters and return types, public variables,
    constants, enums and types; a class's members. Read once per source (each header is a
    parse: the master's 29 modules about 1 s of CPU, and three tests read them) and handed out
    as a copy, so a caller's change to one does not reach the next."""
    return copy.deepcopy(_read_signatures(file_name, source))


@functools.lru_cache(maxsize=64)
@_roomy_stack
def _read_signatures(file_name: str, source: str) -> Module:
    kind = file_name.rsplit(".", 1)[-1].lower()
    module = Module(_module_name(file_name, source), kind)
    depth = 0
    for number, line in _logical(source):
        code = line.strip()
        low = code.lower()
        if re.match(r"end\s+(sub|function|property|enum|type)\b", low):
            depth = 0
            continue
        if depth:
            continue
        if _PROCEDURE.match(code):
            depth = 1
            end = "End " + re.search(r"\b(Sub|Function|Property)\b", code, re.I).group(1)
            head = re.sub(r"\s*'.*$", "", code) if code.count('"') == 0 else code
            text = f'Attribute VB_Name = "{module.name}"\r\n{head}\r\n{end}\r\n'
            units = _parse_units(file_name, text)      # hundreds of headers: not cached
            decls = [d for u in units for d in _walk(u.tree, "ProcedureDeclaration")]
            if not decls:
                continue
            proc = _procedure(module.name, units[0], decls[0])
            proc.line, proc.node = number, None
            module.procs.setdefault(proc.name.lower(), []).append(proc)
            if proc.public:
                module.public.add(proc.name.lower())
                module.members.add(proc.name.lower())
            continue
        m = re.match(r"(?:(public|global)\s+)?enum\s+(\w+)", low)
        if m:
            module.types.add(m.group(2))
            if m.group(1) or not low.startswith("private"):
                module.public.add(m.group(2))
            depth = 2
            continue
        m = re.match(r"(public|global)\s+type\s+(\w+)", low) or re.match(r"()type\s+(\w+)", low)
        if m:
            module.types.add(m.group(2))
            depth = 3
            continue
        m = re.match(r"(?:public|global)\s+(?:const\s+)?(\w+)(?:\s+as\s+(?:new\s+)?(\w+))?", low)
        if m and m.group(1) not in ("sub", "function", "property", "declare", "enum", "type", "withevents"):
            module.public.add(m.group(1))
            module.members.add(m.group(1))
            module.vars[m.group(1)] = Var(m.group(1), m.group(2) or "variant", const=" const " in f" {low} ")
    # enum members are public names too
    in_enum = False
    for _, line in _logical(source):
        low = line.strip().lower()
        if re.match(r"(?:public\s+|global\s+)?enum\s+\w+", low):
            in_enum = not low.startswith("private")
            continue
        if re.match(r"end\s+enum", low):
            in_enum = False
            continue
        if in_enum:
            m = re.match(r"(\w+)", low)
            if m:
                module.public.add(m.group(1))
    return module


# --------------------------------------------------------------------------- the project

@dataclass
class Project:
    modules: dict[str, Module]                 # lower-case module name -> Module

    def public_procs(self, name: str) -> list[Proc]:
        out = []
        for module in self.modules.values():
            if module.kind == "bas":
                out += [p for p in module.procs.get(name, []) if p.public]
        return out

    def public_var(self, name: str) -> Var | None:
        for module in self.modules.values():
            if module.kind == "bas" and name in module.public and name in module.vars:
                return module.vars[name]
        return None

    def knows(self, name: str) -> bool:
        """A name any module may use: a standard module's public name, a module's name."""
        if name in self.modules:
            return True
        return any(module.kind == "bas" and name in module.public for module in self.modules.values())

    def is_type(self, name: str) -> bool:
        if name in BUILTIN_TYPES or name in HOST_TYPES:
            return True
        if name in self.modules and self.modules[name].kind == "cls":
            return True
        if "." in name:
            return True                       # Library.Type: left to Excel
        return any(name in module.types for module in self.modules.values())


def project_of(ours: dict[str, str], theirs: dict[str, str]) -> tuple[Project, dict[str, tuple[Unit, ...]]]:
    """ours: file name -> source, parsed whole; theirs: file name -> source, signatures only
    (a document module is a code name and nothing else)."""
    modules, units = {}, {}
    for file_name, source in theirs.items():
        module = read_signatures(file_name, source)
        modules[module.name.lower()] = module
    for file_name, source in ours.items():
        module, module_units = read_module(file_name, source)
        modules[module.name.lower()] = module
        units[module.name.lower()] = module_units
    return Project(modules), units


# ------------------------------------------------------------------------------ checking

class _Scope:
    def __init__(self, project: Project, module: Module, proc: Proc):
        self.project, self.module, self.proc = project, module, proc
        self.locals: dict[str, Var] = {}
        self.labels: dict[str, int] = {}

    def var(self, name: str) -> Var | None:
        key = name.lower()
        if key in self.locals:
            return self.locals[key]
        if key == self.proc.name.lower() and self.proc.kind in ("function", "property get"):
            return Var(self.proc.name, self.proc.returns)
        if key in self.module.vars:
            return self.module.vars[key]
        return self.project.public_var(key)

    def procs(self, name: str) -> list[Proc]:
        key = name.lower()
        if key in self.locals:
            return []
        own = self.module.procs.get(key)
        if own:
            return own
        return self.project.public_procs(key)

    def resolves(self, name: str) -> bool:
        key = name.lower()
        return (self.var(name) is not None or bool(self.procs(name)) or self.project.knows(key)
                or key in HOST_NAMES)


def _bare_name(ctx) -> str | None:
    """The name of an argument or operand that is a variable alone: no parentheses, no call."""
    while ctx is not None and _kind(ctx) in ("ArgumentExpression", "LExpress", "SimpleNameExpress", "Expression",
                                          "BoundVariableExpression", "Collection"):
        kids = [c for c in _children(ctx) if hasattr(c, "getRuleIndex") and _kind(c) != "Wsc"]
        if len(kids) != 1:
            return None
        ctx = kids[0]
    if ctx is not None and _kind(ctx) == "SimpleNameExpression":
        return _text(ctx)
    return None


def _indexed_name(ctx) -> str | None:
    """name of ``name(args)`` when the argument is exactly that (an element, or a call)."""
    while ctx is not None and _kind(ctx) in ("ArgumentExpression", "LExpress", "Expression", "Collection"):
        kids = [c for c in _children(ctx) if hasattr(c, "getRuleIndex") and _kind(c) != "Wsc"]
        if len(kids) != 1:
            return None
        ctx = kids[0]
    if ctx is not None and _kind(ctx) in ("IndexExpress", "IndexExpression"):
        head = next((c for c in _children(ctx) if hasattr(c, "getRuleIndex")), None)
        return _bare_name(head) if head is not None and _kind(head) == "SimpleNameExpress" else (
            _text(head) if head is not None and _kind(head) == "SimpleNameExpression" else None)
    return None


def _arguments(arglist) -> tuple[list, list[tuple[str, object]]]:
    """(positional ArgumentExpressions, None for an omitted one; [(name, expression)])."""
    positional, named = [], []
    if arglist is None:
        return positional, named
    for part in _walk(arglist, "PositionalArgument", "RequiredPositionalArgument", "NamedArgument"):
        expr = _first(part, "ArgumentExpression")
        if _kind(part) == "NamedArgument":
            named.append((_text(_first(part, "UnrestrictedName")), expr))
        else:
            positional.append(expr)
    # an omitted positional argument: a comma with nothing before it
    text = _text(arglist)
    if positional and re.match(r"^\s*,", text):
        positional.insert(0, None)
    return positional, named


def _check_builtin(name: str, arglist, at: str, out: list[str]) -> None:
    """A call of one of VBA's functions with fewer or more arguments than its syntax takes."""
    fewest, most = VBA_ARITY[name.lower()]
    positional, named = _arguments(arglist)
    given = len(positional) + len(named)
    if given < fewest:
        out.append(f"{at} Argument not optional: {name} takes {fewest} at least")
    elif most is not None and given > most:
        out.append(f"{at} Wrong number of arguments or invalid property assignment: {name} takes {most} at most")


def _check_call(scope: _Scope, proc: Proc, arglist, at: str, out: list[str]) -> None:
    positional, named = _arguments(arglist)
    params = proc.params
    supplied = set()
    for i, expr in enumerate(positional):
        if i < len(params) and params[i].paramarray:
            break
        if i >= len(params):
            out.append(f"{at} Wrong number of arguments or invalid property assignment: {proc.name} takes {len(params)}")
            return
        if expr is not None:
            supplied.add(params[i].name.lower())
            _check_byref(scope, proc, params[i], expr, at, out)
    for name, expr in named:
        match = [p for p in params if p.name.lower() == name.lower() and not p.paramarray]
        if not match:
            out.append(f"{at} Named argument not found: {name} of {proc.name}")
            continue
        supplied.add(name.lower())
        _check_byref(scope, proc, match[0], expr, at, out)
    setter = proc.kind in ("property let", "property set")
    for p in (params[:-1] if setter else params):
        if not p.optional and not p.paramarray and p.name.lower() not in supplied:
            out.append(f"{at} Argument not optional: {p.name} of {proc.name}")


def _same_type(var: Var, param: Param) -> bool:
    if param.array != var.array:
        return False
    return var.type == param.type


def _check_byref(scope: _Scope, proc: Proc, param: Param, expr, at: str, out: list[str]) -> None:
    if param.byval or param.paramarray or (param.type == "variant" and not param.array):
        return
    name = _bare_name(expr)
    if name is not None:
        var = scope.var(name)
        if var is None or var.const:
            return                                   # a Function, or a constant: an expression
        if not _same_type(var, param):
            out.append(f"{at} ByRef argument type mismatch: {name} ({var.type}{'()' if var.array else ''}) "
                       f"to {param.name} As {param.type}{'()' if param.array else ''} of {proc.name}")
        return
    name = _indexed_name(expr)
    if name is not None:
        var = scope.var(name)
        if var is None or var.const or scope.procs(name) and var is None:
            return
        if var.array or var.type == "variant":
            element = Var(name, var.type)
            if param.array or element.type != param.type:
                out.append(f"{at} ByRef argument type mismatch: an element of {name} ({var.type}) "
                           f"to {param.name} As {param.type} of {proc.name}")


def _is_constant_expression(scope: _Scope, ctx) -> str | None:
    """What in a constant expression is not a constant (None: it is constant)."""
    for node in _walk(ctx, "IndexExpression", "IndexExpress", "SimpleNameExpression", "MemberAccessExpression",
                      "MemberAccessExpress", "NewExpress"):
        k = _kind(node)
        if k in ("IndexExpression", "IndexExpress", "NewExpress"):
            return _text(node)
        if k in ("MemberAccessExpression", "MemberAccessExpress"):
            left = _text(_children(node)[0]).lower()
            if left in scope.module.types or any(left in m.types for m in scope.project.modules.values()):
                continue
            return _text(node)
        name = _text(node)
        var = scope.var(name)
        if var is not None and var.const:
            continue
        if name.lower() in VBA_CONSTANTS:
            continue
        return name
    return None


def _statement_name(stmt) -> str | None:
    """The callee of a call statement: Name args, or Call Name(args)."""
    kids = [c for c in _children(stmt) if hasattr(c, "getRuleIndex") and _kind(c) != "Wsc"]
    if not kids:
        return None
    head = kids[0]
    if _kind(head) == "SimpleNameExpression":
        return _text(head), (kids[1] if len(kids) > 1 and _kind(kids[1]) == "ArgumentList" else None), head
    if _kind(head) == "IndexExpression":
        inner = [c for c in _children(head) if hasattr(c, "getRuleIndex")]
        if inner and _kind(inner[0]) in ("SimpleNameExpress", "SimpleNameExpression"):
            sn = inner[0] if _kind(inner[0]) == "SimpleNameExpression" else _first(inner[0], "SimpleNameExpression")
            arglist = next((c for c in inner[1:] if _kind(c) == "ArgumentList"), None)
            return _text(sn), arglist, sn
    return None


def check_procedure(project: Project, module: Module, unit: Unit, proc: Proc,
                    callees: set[str] | None = None) -> list[str]:
    """The findings in one procedure; with callees (lower-case names), only those of its calls
    to these procedures (a module of xlwings' calling into ours)."""
    out: list[str] = []
    calls: list[str] = []
    where = f"{module.name}.{module.kind}"
    scope = _Scope(project, module, proc)
    decl = proc.node

    def check_call(callee: Proc, arglist, place: str) -> None:
        if callees is None or callee.name.lower() in callees:
            _check_call(scope, callee, arglist, place, calls)

    def at(ctx) -> str:
        return f"{where}:{_line(unit, ctx)}"

    # declarations: parameters, then every Dim, Static, Const and label of the body
    for p in proc.params:
        if p.name.lower() in scope.locals:
            out.append(f"{where}:{proc.line} Duplicate declaration in current scope: {p.name}")
        scope.locals[p.name.lower()] = Var(p.name, p.type, array=p.array)
    body = _first(decl, "ProcedureBody")
    if body is None:
        return out
    for stmt in _walk(body, "LocalVariableDeclaration", "StaticVariableDeclaration", "LocalConstDeclaration"):
        if _kind(stmt) == "LocalConstDeclaration":
            items = [(_const(item), item) for item in _walk(stmt, "ConstItem")]
        else:
            items = [(_declared(dcl), dcl) for dcl in _walk(stmt, "VariableDcl")]
        for var, node in items:
            key = var.name.lower()
            var.line = _line(unit, node)
            if key in scope.locals or (key == proc.name.lower() and proc.kind in ("function", "property get")):
                out.append(f"{at(node)} Duplicate declaration in current scope: {var.name}")
            scope.locals[key] = var
    for label in _walk(body, "StatementLabelDefinition"):
        name = _text(label).rstrip(":").strip().lower()
        if name in scope.labels:
            out.append(f"{at(label)} Duplicate label: {name}")
        scope.labels[name] = _line(unit, label)

    # types named in As clauses
    for clause in _walk(decl, "AsClause", "ParameterType", "FunctionType", "ConstAsClause"):
        t = _type_of(clause)
        if not project.is_type(t):
            out.append(f"{at(clause)} User-defined type not defined: {t}")

    # constant expressions: Const values, fixed array bounds, Optional defaults
    for item in list(_walk(body, "ConstItem")):
        value = _first(item, "ConstantExpression")
        bad = _is_constant_expression(scope, value) if value is not None else None
        if bad:
            out.append(f"{at(item)} Constant expression required: {bad}")
    for spec in _walk(decl, "DimSpec", "DefaultValue"):
        bad = _is_constant_expression(scope, spec)
        if bad:
            out.append(f"{at(spec)} Constant expression required: {bad}")

    # labels
    for target in _walk(body, "GotoStatement", "OnErrorStatement", "ResumeStatement", "GosubStatement"):
        label = _first(target, "StatementLabel")
        if label is None:
            continue
        name = _text(label).lower()
        if name == "0" or name in scope.labels:
            continue
        out.append(f"{at(target)} Label not defined: {_text(label)}")

    # calls written as statements
    called = set()
    for stmt in _walk(body, "CallStatement", into=("CallStatement",)):
        found = _statement_name(stmt)
        if found is None:
            continue
        name, arglist, head = found
        called.add(id(head))
        procs = scope.procs(name)
        if procs:
            check_call(procs[0], arglist, at(stmt))
        elif scope.var(name) is None and name.lower() in VBA_ARITY and not project.knows(name.lower()):
            _check_builtin(name, arglist, at(stmt), out)
        elif scope.var(name) is None and not project.knows(name.lower()) and name.lower() not in HOST_NAMES:
            (calls if name.lower().startswith(OUR_PREFIX) else out).append(f"{at(stmt)} Sub or Function not defined: {name}")

    # every other name: calls in expressions, variables
    for node in _walk(body, "IndexExpression", "IndexExpress", "SimpleNameExpression", into=("IndexExpression", "IndexExpress")):
        if _kind(node) in ("IndexExpression", "IndexExpress"):
            kids = [c for c in _children(node) if hasattr(c, "getRuleIndex")]
            head = kids[0] if kids else None
            sn = None
            if head is not None and _kind(head) == "SimpleNameExpression":
                sn = head
            elif head is not None and _kind(head) == "SimpleNameExpress":
                sn = _first(head, "SimpleNameExpression")
            if sn is None or id(sn) in called:
                continue
            called.add(id(sn))
            name = _text(sn)
            var = scope.var(name)
            if var is not None and name.lower() != proc.name.lower():
                if not var.array and var.type in SCALAR_TYPES:
                    out.append(f"{at(node)} Expected array: {name} is a {var.type}")
                continue                              # an array's element, or a variable's default member
            procs = scope.procs(name)
            if procs:
                if procs[0].kind == "sub" and (callees is None or name.lower() in callees):
                    calls.append(f"{at(node)} Expected Function or variable: {name} is a Sub")
                arglist = next((c for c in kids[1:] if _kind(c) == "ArgumentList"), None)
                check_call(procs[0], arglist, at(node))
            elif name.lower() in VBA_ARITY and not project.knows(name.lower()):
                _check_builtin(name, next((c for c in kids[1:] if _kind(c) == "ArgumentList"), None), at(node), out)
            elif not project.knows(name.lower()) and name.lower() not in HOST_NAMES:
                (calls if name.lower().startswith(OUR_PREFIX) else out).append(f"{at(node)} Sub or Function not defined: {name}")
            continue
        if id(node) in called or _in_type_position(node):
            continue
        name = _text(node)
        local = scope.locals.get(name.lower())
        if local is not None and local.line > _line(unit, node) and module.explicit:
            out.append(f"{at(node)} Variable not defined: {name} is used before its Dim (line {local.line})")
        if scope.var(name) is None:
            procs = scope.procs(name)
            if procs and procs[0].kind == "sub" and (callees is None or name.lower() in callees):
                calls.append(f"{at(node)} Expected Function or variable: {name} is a Sub")
            elif procs:
                check_call(procs[0], None, at(node))
            elif not scope.resolves(name) and module.explicit:
                out.append(f"{at(node)} Variable not defined: {name}")

    # assignments
    for stmt in _walk(body, "LetStatement", "SetStatement"):
        kids = [c for c in _children(stmt) if hasattr(c, "getRuleIndex") and _kind(c) != "Wsc"]
        target, value = kids[0], kids[-1]
        target_name = _bare_name(target)
        target_var = scope.var(target_name) if target_name else None
        if target_var is not None and target_var.const:
            out.append(f"{at(stmt)} Assignment to constant not permitted: {target_name}")
        assigned = scope.procs(target_name) if target_name and target_var is None else []
        if assigned and assigned[0].kind in ("sub", "property get", "property set"):
            out.append(f"{at(stmt)} Expected Function or variable: {target_name} = is an assignment to a {assigned[0].kind}")
        elif assigned and assigned[0].kind == "function" and assigned[0].returns in SCALAR_TYPES:
            out.append(f"{at(stmt)} Function call on left side of assignment must return Variant or Object: "
                       f"{target_name} is another procedure's Function As {assigned[0].returns}")
        value_text = _text(value).lower()
        if _kind(stmt) == "LetStatement":
            if value_text == "nothing" or _kind(value) == "NewExpress":
                out.append(f"{at(stmt)} Invalid use of object: {_text(stmt)} (Set is missing)")
            continue
        if target_var is not None and target_var.type in SCALAR_TYPES and not target_var.array:
            out.append(f"{at(stmt)} Object required: Set {target_name} ({target_var.type})")
        if _kind(value) == "LiteralExpress" and value_text != "nothing":
            out.append(f"{at(stmt)} Object required: Set ... = {_text(value)}")
        value_name = _bare_name(value)
        if value_name is not None:
            var = scope.var(value_name)
            if var is not None and var.type in SCALAR_TYPES and not var.array:
                out.append(f"{at(stmt)} Type mismatch: Set ... = {value_name} ({var.type})")
            procs = [] if var is not None else scope.procs(value_name)
            if procs and procs[0].returns in SCALAR_TYPES:
                out.append(f"{at(stmt)} Type mismatch: Set ... = {value_name}, a Function As {procs[0].returns}")
        called_name = _indexed_name(value)
        if called_name is not None and scope.var(called_name) is None:
            procs = scope.procs(called_name)
            if procs and procs[0].returns in SCALAR_TYPES:
                out.append(f"{at(stmt)} Type mismatch: Set ... = {called_name}(...), a Function As {procs[0].returns}")

    # For and For Each
    for loop in _walk(body, "ForClause", "ForEachClause"):
        control = _bare_name(_first(loop, "BoundVariableExpression")) if _first(loop, "BoundVariableExpression") else None
        if control is None:
            continue
        var = scope.var(control)
        if var is not None and var.const:
            out.append(f"{at(loop)} Assignment to constant not permitted: {control}")
        if _kind(loop) != "ForEachClause" or var is None:
            continue
        if var.type in SCALAR_TYPES:
            out.append(f"{at(loop)} For Each control variable must be Variant or Object: {control} ({var.type})")
            continue
        collection = _first(loop, "Collection")
        over = _bare_name(collection) if collection is not None else None
        called_fn = _indexed_name(collection) if collection is not None else None
        is_array = False
        if over is not None:
            over_var = scope.var(over)
            is_array = over_var is not None and over_var.array
        elif called_fn is not None and called_fn.lower() in ARRAY_FUNCTIONS:
            is_array = True
        if is_array and var.type != "variant":
            out.append(f"{at(loop)} For Each control variable on arrays must be Variant: {control} ({var.type})")

    # members of the master's class modules
    for access in _walk(body, "MemberAccessExpression", "MemberAccessExpress", into=("MemberAccessExpression", "MemberAccessExpress")):
        kids = [c for c in _children(access) if hasattr(c, "getRuleIndex")]
        left = _bare_name(kids[0]) if kids and _kind(kids[0]) in ("SimpleNameExpress", "LExpress") else None
        if left is None:
            continue
        var = scope.var(left)
        if var is None or var.array:
            continue
        cls = project.modules.get(var.type)
        if cls is None or cls.kind != "cls" or not cls.members:
            continue
        member = _text(kids[-1]).lower()
        if member not in cls.members:
            out.append(f"{at(access)} Method or data member not found: {left}.{_text(kids[-1])} ({cls.name})")
    # members of Excel's objects, on a typed variable or in a With block of a known type
    def member_of(type_name: str, member, shown: str) -> None:
        known = EXCEL_MEMBERS.get(type_name)
        if known is not None and _text(member).lower() not in known:
            out.append(f"{at(member)} Method or data member not found: {shown} (not a member of {type_name} this "
                       f"check knows: check Microsoft's reference, then add it to EXCEL_MEMBERS)")

    def walk_members(ctx, with_type: str | None) -> None:
        """Every member access under ctx whose object's type is known, With blocks' own
        members against the type of the With's object."""
        for child in _children(ctx):
            if not hasattr(child, "getRuleIndex"):
                continue
            k = _kind(child)
            if k == "WithStatement":
                head = next(c for c in _children(child) if hasattr(c, "getRuleIndex") and _kind(c) != "Wsc")
                walk_members(head, with_type)
                walk_members(next(c for c in _children(child) if _kind(c) == "StatementBlock") if any(
                    hasattr(c, "getRuleIndex") and _kind(c) == "StatementBlock" for c in _children(child)) else head,
                    _expr_type(scope, head, with_type))
                continue
            if k in ("MemberAccessExpress", "MemberAccessExpression"):
                kids = [c for c in _children(child) if hasattr(c, "getRuleIndex")]
                left_type = _expr_type(scope, kids[0], with_type)
                if left_type is not None:
                    member_of(left_type, kids[-1], _text(child))
            elif k == "WithMemberAccessExpression" and with_type is not None:
                member_of(with_type, _first(child, "UnrestrictedName"), _text(child))
            walk_members(child, with_type)

    walk_members(body, None)

    # named arguments of Excel's methods, where the object's type is known
    for call in _walk(body, "CallStatement", "IndexExpress", "IndexExpression",
                      into=("CallStatement", "IndexExpress", "IndexExpression")):
        kids = [c for c in _children(call) if hasattr(c, "getRuleIndex") and _kind(c) != "Wsc"]
        if not kids or _kind(kids[0]) not in ("MemberAccessExpression", "MemberAccessExpress"):
            continue
        parts = [c for c in _children(kids[0]) if hasattr(c, "getRuleIndex")]
        params = EXCEL_PARAMS.get((_expr_type(scope, parts[0], None), _text(parts[-1]).lower()))
        if params is None:
            continue
        positional, named = _arguments(next((c for c in kids[1:] if _kind(c) == "ArgumentList"), None))
        if len(positional) > len(params):
            out.append(f"{at(call)} Wrong number of arguments or invalid property assignment: {_text(kids[0])}")
        for name, _ in named:
            if name.lower() not in params:
                out.append(f"{at(call)} Named argument not found: {name} of {_text(kids[0])}")
    if callees is not None:
        return calls
    return out + calls


def _expr_type(scope: _Scope, ctx, with_type: str | None) -> str | None:
    """The type of an object expression where it is known: a typed variable, a global
    (ActiveWindow), a member whose type Excel's reference gives (EXCEL_RETURNS), a Range indexed
    (`ws.Cells(r, c)`, `area.Columns(c)`: a Range), a With block's member; None elsewhere."""
    while _kind(ctx) in ("LExpress", "SimpleNameExpress") and len([c for c in _children(ctx) if hasattr(c, "getRuleIndex")]) == 1:
        ctx = next(c for c in _children(ctx) if hasattr(c, "getRuleIndex"))
    k = _kind(ctx)
    if k == "SimpleNameExpression":
        var = scope.var(_text(ctx))
        if var is not None:
            return None if var.array else var.type
        return GLOBAL_TYPES.get(_text(ctx).lower())
    kids = [c for c in _children(ctx) if hasattr(c, "getRuleIndex")]
    if k in ("MemberAccessExpress", "MemberAccessExpression"):
        left = _expr_type(scope, kids[0], with_type)
        return EXCEL_RETURNS.get((left, _text(kids[-1]).lower())) if left else None
    if k == "WithMemberAccessExpression":
        return EXCEL_RETURNS.get((with_type, _text(_first(ctx, "UnrestrictedName")).lower())) if with_type else None
    if k in ("IndexExpress", "IndexExpression") and kids:
        return {"range": "range", "borders": "border"}.get(_expr_type(scope, kids[0], with_type))
    return None


def _in_type_position(node) -> bool:
    parent = node.parentCtx
    while parent is not None:
        k = _kind(parent)
        if k in ("ClassTypeName", "DefinedTypeExpression", "TypeExpression", "AsClause", "TypeSpec",
                 "ParameterType", "FunctionType", "TypeofIsExpression", "NewExpress", "NewExpression"):
            return k != "TypeofIsExpression" or node is not _first(parent, "SimpleNameExpression")
        if k in ("Statement", "ProcedureDeclaration"):
            return False
        parent = parent.parentCtx
    return False


def _crossing(source: str, names: set[str], prefix: str) -> str | None:
    """source with only the procedures that name one of names (lower case), or a name starting
    with prefix, kept, every other line left empty so that line numbers stay the module's;
    None when none does."""
    lines = source.split("\r\n")
    starts = [i for i, line in enumerate(lines) if i and _PROCEDURE.match(line)]
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + "|" + re.escape(prefix) + r"\w*)\b", re.I)
    kept = [lines[0]] + [""] * (len(lines) - 1)
    found = False
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        if any(pattern.search(re.sub(r"'.*$", "", line)) for line in lines[start + 1:end]):
            kept[start:end] = lines[start:end]
            found = True
    return "\r\n".join(kept) if found else None


@_roomy_stack
def check_project(ours: dict[str, str], theirs: dict[str, str]) -> list[str]:
    """Every finding in ours (file name -> source as the master carries it), each as
    ``Module.bas:line message``; theirs gives the other modules' signatures, and the
    procedures of theirs that call a public procedure of ours are checked for those calls
    (the calls renkei_xl.vba.sources writes into xlwings' modules)."""
    project, units = project_of(ours, theirs)
    out: list[str] = []
    for key, module_units in units.items():
        module = project.modules[key]
        out += module.findings
        for unit in module_units:
            for decl in _walk(unit.tree, "ProcedureDeclaration"):
                proc = next(p for p in module.procs[_procedure(module.name, unit, decl).name.lower()]
                            if p.node is decl)
                out += check_procedure(project, module, unit, proc)
        # module-level constants
        scope = _Scope(project, module, Proc(module.name, "", "sub", []))
        for unit in module_units:
            for element in _walk(unit.tree, "ProceduralModuleDeclarationElement", "ClassModuleDeclarationElement"):
                for item in _walk(element, "ConstItem"):
                    value = _first(item, "ConstantExpression")
                    bad = _is_constant_expression(scope, value) if value is not None else None
                    if bad:
                        out.append(f"{module.name}.{module.kind}:{_line(unit, item)} Constant expression required: {bad}")
    callees = {name for key in units for name, procs in project.modules[key].procs.items()
               if any(p.public for p in procs)}
    for file_name, source in theirs.items():
        module = project.modules[_module_name(file_name, source).lower()]     # read by project_of
        if module.name.lower() in units or not callees:
            continue
        kept = _crossing(source, callees, OUR_PREFIX)
        if kept is None:
            continue
        for unit in parse_units(file_name, kept):
            out += [f"{file_name}:{e.split(':', 2)[1]} syntax: {e}" for e in unit.errors]
            for decl in _walk(unit.tree, "ProcedureDeclaration"):
                proc = _procedure(module.name, unit, decl)
                out += check_procedure(project, module, unit, proc, callees)
    return out
