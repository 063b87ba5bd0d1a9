"""One definition each (issue 20, item 3): a name or a set of characters the tool keeps in
one place is not typed again elsewhere, where a later change would reach one copy only.

Read from the code's string constants (f-string parts included, docstrings left out), so a
new copy fails here the day it is written, before the copies disagree.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from renkei_xl.core import contract as c
from renkei_xl.core.displayed import _DATE_PART, ERA_LETTERS, ERA_PARTS, is_era_format
from renkei_xl.core.model import EVALUABLE, NOT_EVALUABLE, SYMBOLS
from renkei_xl.core.refs import COLUMN_DIGITS, COLUMN_LETTERS, ROW_DIGITS
from renkei_xl.core.values import DASH_CHARS, EVALUATION_MARKS, SYMBOL_LOOKALIKES

PACKAGE = Path(__file__).resolve().parents[1] / "renkei_xl"


@functools.lru_cache(maxsize=None)
def _tree(text: str) -> ast.Module:
    """A module's syntax tree, parsed once per content in a run: each check here walks every
    module of the package (half a second a parse of them all). Read, never changed."""
    return ast.parse(text)


@functools.lru_cache(maxsize=None)
def _strings(text: str) -> tuple[tuple[int, str], ...]:
    """(line, text) of a module's string constants that are not docstrings."""
    tree = _tree(text)
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return tuple((node.lineno, node.value) for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs)


def _as_text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


@functools.lru_cache(maxsize=None)
def _constants(text: str) -> tuple[tuple[int, str], ...]:
    """(line, text) of a module's str and bytes constants (bytes as Latin-1) that are not
    docstrings."""
    tree = _tree(text)
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return tuple((node.lineno, _as_text(node.value)) for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) and id(node) not in docs)


def code_strings(root: Path = PACKAGE):
    """(module path, line, text) of every string constant that is not a docstring."""
    for path in sorted(root.rglob("*.py")):
        for line, text in _strings(path.read_text(encoding="utf-8")):
            yield path.relative_to(root.parent).as_posix(), line, text


def typed_with(chars: str, at_least: int = 3, root: Path = PACKAGE) -> set[str]:
    """The modules with a string holding ``at_least`` distinct characters of ``chars``:
    a copy of that character set (one or two of them occur in any message)."""
    wanted = set(chars)
    return {path for path, _, text in code_strings(root) if len(wanted & set(text)) >= at_least}


def test_the_dash_look_alikes_are_typed_once():
    assert typed_with(DASH_CHARS) == {"renkei_xl/core/values.py"}


def test_the_symbol_look_alikes_are_typed_once():
    """values.SYMBOL_LOOKALIKES: what a value cell refuses as a symbol and what 経年 names as
    looking like one were two copies of one table (lookalike._LOOKS_LIKE)."""
    assert typed_with("".join(SYMBOL_LOOKALIKES.values())) == {"renkei_xl/core/values.py"}
    assert tuple(SYMBOL_LOOKALIKES) == EVALUABLE
    assert set("".join(SYMBOL_LOOKALIKES.values())) < EVALUATION_MARKS


def test_the_eras_are_typed_once():
    """fiscal.ERAS and its patterns are the one list of eras a year is written in: values'
    deadlines typed their own (令和|平成|昭和|[RHS]), which the next era added to fiscal would
    not have reached (「新元号2年度まで」 read as no deadline while fiscal read the year)."""
    typed = {path for path, _, text in code_strings() if "令和" in text and "平成" in text}
    assert typed == {"renkei_xl/core/fiscal.py"}


# Every sheet the contract names. 「指標」 and 「設定」 are words of messages too, but in
# 「」 they are the sheet.
SHEETS = (c.SETTINGS, c.INDICATORS, *c.TOOL_OWNED)


def test_no_code_names_a_sheet_in_brackets_but_the_contract():
    """A message names a sheet by the contract's constant (「{c.HISTORY}」), so a renamed sheet
    is renamed in every message: 「経年」 and 「取込履歴」 were typed in messages."""
    typed = [f"{path}:{line} 「{name}」" for path, line, text in code_strings() for name in SHEETS
             if f"「{name}」" in text and path != "renkei_xl/core/contract.py"]
    assert not typed, "\n".join(typed)


def test_the_checks_see_a_copy(tmp_path):
    """A test that cannot fail is a defect: a planted copy of each is found."""
    (tmp_path / "m.py").write_text(f'"""「{c.HISTORY}」 in a docstring is prose."""\n'
                                   f'A = "{DASH_CHARS[:4]}"\nB = f"「{c.IMPORT_LOG}」に {{n}} 行"\n', encoding="utf-8")
    assert typed_with(DASH_CHARS, root=tmp_path) == {f"{tmp_path.name}/m.py"}
    assert [t for _, _, t in code_strings(tmp_path)] == [DASH_CHARS[:4], f"「{c.IMPORT_LOG}」に ", " 行"]


# The days of Excel's 1900 day count (core.contract_read.EXCEL_DAY_ZERO and its neighbours):
# OLE's day 0 and 1, Excel's serial 1, the fictitious 29 February's neighbours.
EXCEL_COUNT_DAYS = {(1899, 12, 30), (1899, 12, 31), (1900, 1, 1), (1900, 2, 28), (1900, 2, 29), (1900, 3, 1)}


def excel_count_days(root: Path = PACKAGE) -> list[str]:
    """Where a day of Excel's count is written as a date (dt.date(1899, 12, 30), datetime(…))."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(_tree(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and len(node.args) == 3
                    and all(isinstance(a, ast.Constant) and type(a.value) is int for a in node.args)
                    and tuple(a.value for a in node.args) in EXCEL_COUNT_DAYS):
                found.append(f"{path.relative_to(root.parent).as_posix()}:{node.lineno}")
    return found


def test_excels_day_count_is_written_once():
    """Excel's leap 1900 was counted in four modules (the file reader, the file writer, the
    buttons' reads and writes, each with its own 1899-12-30 or 1900-03-01): a fix to one
    count (the file face's 1900-01-15 written as 16) left the others to be found apart."""
    found = excel_count_days()
    assert found and all(f.startswith("renkei_xl/core/contract_read.py:") for f in found), "\n".join(found)
    assert len(found) == 3, "\n".join(found)


def test_the_day_count_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text("import datetime as dt\nA = dt.date(1900, 3, 1)\nB = dt.date(2024, 3, 1)\n",
                                   encoding="utf-8")
    assert excel_count_days(tmp_path) == [f"{tmp_path.name}/m.py:2"]


def test_the_steps_that_mend_stale_results_are_typed_once():
    """A stale result's finding and the refusal of the commands that publish (core.calc_on_load
    .refuse_stale) say the same step: the manual-calculation one was typed in both, where a
    later change of Excel's menu path would reach one only (core.findings.CALCULATE_AT_SAVE)."""
    for phrase in ("ブックの保存前に再計算を行う", "開くと数式が計算し直されます"):
        typed = {path for path, _, text in code_strings() if phrase in text}
        assert typed == {"renkei_xl/core/findings.py"}, (phrase, typed)


# The grid's numbers (core.refs: a row's seven digits, a column's five, a column's three
# letters) as the upper bound of a pattern's quantifier: {1,7}, {1,5}, {1,3}, {2,3}, {0,7}.
# (An exact count, {3}, is left out: thousands, milliseconds and error codes are spelt so.)
GRID_NUMBERS = (ROW_DIGITS, COLUMN_DIGITS, COLUMN_LETTERS)
_GRID_BOUND = re.compile(r"\{[0-9]*,(?:%s)\}" % "|".join(map(str, GRID_NUMBERS)))
# Such a bound that is none of the grid's, by module, and why.
NOT_THE_GRID = {
    ("renkei_xl/package/xml.py", "{1,7}"):
        "a character reference's decimal code point (U+10FFFF is 1,114,111: seven digits), no row",
    ("renkei_xl/core/displayed.py", "{1,3}"):
        "an era's name in a date format (ggg: displayed.ERA_PARTS), no column",
    ("renkei_xl/core/history.py", "{1,3}"):
        "a printed rate's digits either side of its point (「100.0%」), no column",
}


def code_patterns(root: Path = PACKAGE):
    """(module path, line, text) of every str and bytes constant that is not a docstring:
    patterns of a sheet's XML are bytes (sheet_checks._ERROR_REF), which code_strings skips."""
    for path in sorted(root.rglob("*.py")):
        for line, text in _constants(path.read_text(encoding="utf-8")):
            yield path.relative_to(root.parent).as_posix(), line, text


def typed_grid_bounds(root: Path = PACKAGE) -> set[tuple[str, str]]:
    return {(path, bound) for path, _, text in code_patterns(root) for bound in _GRID_BOUND.findall(text)}


def test_the_grids_bounds_are_typed_once():
    """core.refs.ROW_DIGITS, COLUMN_DIGITS and COLUMN_LETTERS bound every pattern that finds
    a cell, row or column in a part's text: the hostile-input fixes of stops 59 to 61 typed
    {1,7} and {1,5} (and a len() > 7) into five modules, where one pattern of its own taking
    any number of digits had let 5,000 of them reach int(); a column's {1,3} was typed on 17
    lines of seven modules, and rb'' patterns went unseen (review63)."""
    assert typed_grid_bounds() == set(NOT_THE_GRID)


def test_the_grid_bound_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text('import re\n_ROW = re.compile(r"r=\\"([0-9]{1,7})\\"")\n'
                                   "_CELL = re.compile(rb'r=\"([A-Z]{1,3})[0-9]+\"')\n"
                                   '_WIDE = re.compile(rb"([A-Z]{2,3})")\n')
    assert {(path.rpartition("/")[2], bound) for path, bound in typed_grid_bounds(tmp_path)} == {
        ("m.py", "{1,7}"), ("m.py", "{1,3}"), ("m.py", "{2,3}")}


# The names a pattern of a column's letters ([A-Z]{…}, [A-Za-z]{…}) takes its bounds from:
# core.refs'. A row bounded by another name slipped past the typed-bound check above
# (sheet_form._NUMBER_CELL_REF took an unsignedInt's ten digits beside a column).
GRID_NAMES = {"ROW_DIGITS", "COLUMN_DIGITS", "COLUMN_LETTERS"}
# Another name such a pattern takes on purpose, by module, and why.
NOT_THE_GRIDS_NAMES = {
    ("renkei_xl/workbook/sheet_checks.py", "UNSIGNED_DIGITS"):
        "_ERROR_REF reads an error cell's row as check_extent does, past the grid too (eight to "
        "ten digits), so that the sheet is refused naming that row",
}
_COLUMN_CLASS = re.compile(r"\[A-Z(?:a-z)?\]\{")


def column_pattern_names(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """(module, name) of each name filled into a pattern holding a column's letters: an
    f-string's fields, or what a %-format (the bytes patterns') is given."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(_tree(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant)
                    and isinstance(node.left.value, (str, bytes))):
                literal, fields = _as_text(node.left.value), [node.right]
            elif isinstance(node, ast.JoinedStr):
                literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                fields = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
            else:
                continue
            if _COLUMN_CLASS.search(literal):
                found |= {(path.relative_to(root.parent).as_posix(), n.id)
                          for field in fields for n in ast.walk(field) if isinstance(n, ast.Name)}
    return found


def test_a_columns_patterns_take_the_grids_bounds():
    assert {(path, name) for path, name in column_pattern_names() if name not in GRID_NAMES} == set(NOT_THE_GRIDS_NAMES)


def test_the_column_pattern_check_sees_another_bound(tmp_path):
    (tmp_path / "m.py").write_text("import re\nfrom x import ROW_DIGITS, UNSIGNED_DIGITS\n"
                                   "_A = re.compile(rb'r=\"([A-Z]{1,3})0*([0-9]{1,%d})\"' % UNSIGNED_DIGITS)\n"
                                   '_B = re.compile(rf"[A-Za-z]{{1,3}}[0-9]{{1,{ROW_DIGITS}}}")\n'
                                   "_C = re.compile(rb's=\"([0-9]{1,%d})\"' % UNSIGNED_DIGITS)\n")
    assert {(path.rpartition("/")[2], name) for path, name in column_pattern_names(tmp_path)} == {
        ("m.py", "UNSIGNED_DIGITS"), ("m.py", "ROW_DIGITS")}


# A column's letters given a count typed as digits ([A-Z]{4}, [A-Za-z]{1,3}): the exact
# counts _GRID_BOUND leaves out are no excuse here, as no such class counts anything else.
_TYPED_COLUMN_COUNT = re.compile(r"\[A-Z(?:a-z)?\]\{[0-9]*(?:,[0-9]*)?\}")


def typed_column_counts(root: Path = PACKAGE) -> set[tuple[str, str]]:
    return {(path, count) for path, _, text in code_patterns(root) for count in _TYPED_COLUMN_COUNT.findall(text)}


def test_no_pattern_types_a_columns_letter_count():
    """gridbounds63 spelt sheet_checks._LONG_COLUMN's {4} (a column past XFD) from
    refs.COLUMN_LETTERS, but the typed-bound check leaves exact counts out, so a {4} typed
    back passed every guard (review63b: put back, no test failed)."""
    assert typed_column_counts() == set()


def test_the_column_count_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text("import re\n_LONG = re.compile(rb' r=\"([A-Z]{4}[^\"]{0,20})')\n"
                                   '_ANY = re.compile(r"[A-Za-z]{1,3}[0-9]+")\n_NOT = re.compile(r"[0-9]{4}")\n')
    assert {count for _path, count in typed_column_counts(tmp_path)} == {"[A-Z]{4}", "[A-Za-z]{1,3}"}


def test_the_era_letters_are_written_once():
    """core.displayed.ERA_PARTS: is_era_format looked for [ge] and _DATE_PART cut g{1,3}|ee?,
    each typed on its own; the letters are now read from the parts."""
    for spelt in ("g{1,3}", "ee?", "[ge]", "[eg]"):
        typed = [(path, line) for path, line, text in code_strings() if spelt in text]
        assert len(typed) == (spelt in ERA_PARTS), (spelt, typed)
    assert ERA_LETTERS == "".join(part[0] for part in ERA_PARTS) == "ge"
    assert all(_DATE_PART.fullmatch(part[0]) for part in ERA_PARTS)
    assert [is_era_format(f"{letter}\"年\"m\"月\"d\"日\"") for letter in ERA_LETTERS] == [True, True]


def column_readers(root: Path = PACKAGE) -> set[str]:
    """The modules that turn a column's letters into its number themselves (``* 26 +``)."""
    return {path.relative_to(root.parent).as_posix() for path in sorted(root.rglob("*.py"))
            if "* 26 +" in path.read_text(encoding="utf-8")}


def test_a_columns_letters_are_read_in_one_place():
    """core.refs.column_number: package.cells, the sheet checks and formula_refs each had a
    loop of their own, and formula_refs its own 16384 beside refs.LAST_COLUMN."""
    assert column_readers() == {"renkei_xl/core/refs.py"}


def test_the_column_reader_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text("def col(s):\n    n = 0\n    for ch in s:\n        n = n * 26 + ord(ch) - 64\n")
    assert [path.rpartition("/")[2] for path in column_readers(tmp_path)] == ["m.py"]


def recipient_spellers(root: Path = PACKAGE) -> set[str]:
    """The modules that spell a recipient as 「name <address>」 themselves."""
    return {path.relative_to(root.parent).as_posix() for path in sorted(root.rglob("*.py"))
            if "display_name} <{" in path.read_text(encoding="utf-8")}


def test_a_recipient_is_spelt_in_one_place():
    """core.send_record.shown_recipient: the 送信記録 reads a recipient back by that spelling
    (shown_address), and the send (cli.cycle) and cycle.smtp's outcome each wrote it."""
    assert recipient_spellers() == {"renkei_xl/core/send_record.py"}


def test_the_recipient_spelling_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text('def shown(a):\n    return f"{a.display_name} <{a.addr_spec}>"\n')
    assert [path.rpartition("/")[2] for path in recipient_spellers(tmp_path)] == ["m.py"]


def test_a_sheet_calamine_refused_is_said_in_one_place():
    """workbook.stored_values.calamine_refusal: the reader of a master (grids) and of a
    return (returned) each typed the general sentence of a sheet python-calamine refused
    beside a call to it, with their own punctuation."""
    typed = {path for path, _, text in code_strings() if "共有文字列が見つかりません" in text}
    assert typed == {"renkei_xl/workbook/stored_values.py"}, typed


# Codes only a built-in number format's table holds (ECMA-376 18.8.30 ids 18, 19, 47): a
# module typing one has typed the table again.
BUILTIN_ONLY_CODES = ("h:mm AM/PM", "h:mm:ss AM/PM", "mm:ss.0")


def builtin_code_tables(root: Path = PACKAGE) -> set[str]:
    """The modules with a string constant holding one of BUILTIN_ONLY_CODES."""
    return {path for path, _, text in code_strings(root) if any(code in text for code in BUILTIN_ONLY_CODES)}


def test_the_builtin_number_formats_are_typed_once():
    """package.styles.BUILTIN_CODES: shown63 typed its own table of the built-in codes that
    are not plain (sheet_checks, for the faces' shown_styles) while leftalone63 added the
    same times to BUILTIN_CODES (what a cell of the id is read as); sheet_checks now reads
    BUILTIN_CODES through core.displayed.plain_format (review63b)."""
    assert builtin_code_tables() == {"renkei_xl/package/styles.py"}


def test_the_builtin_table_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text('_SHOWN = {18: "h:mm AM/PM", 20: "h:mm"}\n')
    assert [path.rpartition("/")[2] for path in builtin_code_tables(tmp_path)] == ["m.py"]


def test_shown_styles_takes_every_builtin_code_that_is_not_plain():
    """What shown_styles knows of a built-in id is BUILTIN_CODES' code where it is not plain:
    the percentages, dates and times, and no plain one (General, 0, #,##0, @)."""
    from renkei_xl.core.displayed import plain_format
    from renkei_xl.package.styles import BUILTIN_CODES
    from renkei_xl.workbook.sheet_checks import _builtin_shown

    codes, named = _builtin_shown()
    assert codes == {i: code for i, code in BUILTIN_CODES.items() if not plain_format(code)}
    assert {9, 10, 14, 20, 22, 46, 47} <= set(codes) and not {0, 1, 3, 49} & set(codes)
    assert all(named.search(b'<xf numFmtId="%d"/>' % i) for i in codes)
    assert not any(named.search(b'<xf numFmtId="%d"/>' % i) for i in (0, 1, 3, 49, 146, 200))


def year_readers(root: Path = PACKAGE) -> set[str]:
    """The modules that read a 年度 themselves with core.fiscal.parse_fiscal_year (a text
    that must end in 年度: a deadline, a note), rather than staff_year."""
    return {path.relative_to(root.parent).as_posix() for path in sorted(root.rglob("*.py"))
            if "parse_fiscal_year(" in path.read_text(encoding="utf-8")}


def test_a_year_as_staff_write_it_is_read_in_one_place():
    """core.fiscal.staff_year: --year (cli.parser), a history CSV's 年度 and a 経年 header
    (core.history) and 設定's hint (contract_read) each appended 年度 and read the text
    their own way, so 「𝟮𝟬𝟮𝟮」 was a year on the command line and none in the CSV (review64).
    values reads a deadline's and a note's 年度, which staff write with 年度."""
    assert year_readers() == {"renkei_xl/core/fiscal.py", "renkei_xl/core/values.py"}


def test_the_year_reader_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text('def y(t):\n    return parse_fiscal_year(t + "年度")\n')
    assert [path.rpartition("/")[2] for path in year_readers(tmp_path)] == ["m.py"]


# What a count in a message is a count of (「ほか {places} も」 names places, not a count).
COUNTERS = ("件", "か所", "行", "個", "セル", "シート", "市町村", "人", "列")


def uncounted_rests(root: Path = PACKAGE) -> list[str]:
    """Where an f-string says 「ほか」 (「ほかに」) and then a number it formats itself, not with
    core.alerts.count_text (or more_text, which uses it): such a count lacked the thousands
    separators 検証結果 prints (the command line's 「ほか 1234 件」 beside the sheet's
    「ほか 1,234 件」). A Listing's 「ほか {n} 件」 is formatted by Listing.render."""
    out = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "ほか" not in text:
            continue
        for node in ast.walk(_tree(text)):
            if not isinstance(node, ast.JoinedStr):
                continue
            for part, after, unit in zip(node.values, node.values[1:], [*node.values[2:], None]):
                if (isinstance(part, ast.Constant) and part.value.rstrip().endswith(("ほか", "ほかに"))
                        and isinstance(after, ast.FormattedValue)
                        and isinstance(unit, ast.Constant) and unit.value.lstrip().startswith(COUNTERS)
                        and not (isinstance(after.value, ast.Call) and isinstance(after.value.func, ast.Name)
                                 and after.value.func.id == "count_text")):
                    out.append(f"{path.relative_to(root.parent).as_posix()}:{node.lineno}")
    return out


def test_a_count_of_what_a_list_left_out_is_formatted_in_one_place():
    assert uncounted_rests() == []


def test_the_rest_count_check_sees_a_copy(tmp_path):
    (tmp_path / "m.py").write_text('def f(n, p):\n    return f" ほか {n:,} 件", f"ほか{n}か所", f"ほか {count_text(n)} 件", '
                                   'f"ほかに {p} も"\n')
    assert [p.rpartition("/")[2] for p in uncounted_rests(tmp_path)] == ["m.py:2", "m.py:2"]


def test_a_rest_of_thousands_is_said_with_separators_on_every_face(capsys):
    """The command line's 「… ほか 1234 件」 and 「警告 1244 件」 and a button's list said the count
    bare, beside 検証結果's 「ほかに 1,234 件」."""
    from renkei_xl.cli.workbook import print_findings
    from renkei_xl.core import findings as F
    from renkei_xl.core.alerts import Listing
    from renkei_xl.core.model import Report
    from renkei_xl.core.sheet_findings import shown_findings

    found = [F.IGNORED_DENOMINATOR.at("札幌市", f"F{r}", f"{r}-1", method="合計", value="5") for r in range(2, 1246)]
    print_findings(found)
    assert capsys.readouterr().out.splitlines()[-1] == "  … ほか 1,234 件（シート「検証結果」を見てください）"   # as a button (staff-walk)
    assert "ほかに 1,234 件" in shown_findings(found, 10).note
    assert Listing(["a"] * 1235, "ほか {n} 件", cap=1).render(1) == "a\nほか 1,234 件"
    assert Report(tuple(found)).counts() == "エラー 0 件、警告 1,244 件"


def test_every_table_of_excels_error_codes_names_the_error_values_core_knows():
    """Excel numbers its errors in three places the tool reads (COM's CVErr codes, the
    errorType of a rich error value Excel 365 saves, core.values.ERROR_VALUES as the cells
    show them): a code either table adds must be one core reads as an error, or a cell
    showing it would be taken for text."""
    from renkei_xl.core.values import ERROR_VALUES, error_value
    from renkei_xl.excel.com_errors import CODES
    from renkei_xl.package.rich_errors import ERROR_TYPES

    for table in (CODES, ERROR_TYPES):
        assert set(table.values()) <= set(ERROR_VALUES), set(table.values()) - set(ERROR_VALUES)
        assert all(error_value(text) == text for text in table.values())
    assert set(ERROR_VALUES) - set(CODES.values()) <= {"#EXTERNAL!"}   # COM's code for it undocumented


# Where a 集計方法's name is read outside its table (core.methods.METHODS), and why: not to
# decide a behaviour, which is a field of its Method.
METHOD_NAMES_READ = {
    ("renkei_xl/core/model.py", "METHOD_MANUAL"): "Indicator's default 集計方法 (a record built without one)",
    ("renkei_xl/core/reference.py", "METHOD_MANUAL"): "the FY2023 sample's 基本KPI rows, typed by hand",
    ("renkei_xl/core/reference.py", "METHOD_CENTRAL"): "the FY2023 sample's default 集計方法 for a row",
}


def method_names_read(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """(module, name) of each read of a METHOD_* name (core.choices) outside core.choices and
    core.methods: a behaviour keyed by the name (rules._YIELDS: {METHOD_RATIO: "%", …}) is
    one a new 集計方法 does not get by adding its record."""
    from renkei_xl.core import choices

    names = {n for n in vars(choices) if n.startswith("METHOD_")}
    found = set()
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent).as_posix()
        if where.endswith(("core/choices.py", "core/methods.py")):
            continue
        for node in ast.walk(_tree(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
                found.add((where, node.id))
    return found


def test_a_methods_behaviour_is_a_field_of_its_record():
    """rules._unit_problem took the unit a 比率 and a 参加市町村数 yield from a dict keyed by
    their names, beside Method's own fields (now Method.yields)."""
    assert method_names_read() == set(METHOD_NAMES_READ)


def test_the_method_name_check_sees_a_read(tmp_path):
    (tmp_path / "m.py").write_text("from x import METHOD_RATIO, METHOD_SUM\n_Y = {METHOD_RATIO: '%'}\n"
                                   "def f(ind):\n    return ind.method == METHOD_SUM\n")
    assert {name for _path, name in method_names_read(tmp_path)} == {"METHOD_RATIO", "METHOD_SUM"}


def attribute_readers(attribute: str, root: Path = PACKAGE) -> set[str]:
    """The modules that read ``.attribute`` of something."""
    return {path.relative_to(root.parent).as_posix() for path in sorted(root.rglob("*.py"))
            for node in ast.walk(_tree(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute) and node.attr == attribute and isinstance(node.ctx, ast.Load)}


def test_the_footers_code_is_composed_once():
    """PrintSetup.centre_footer: the file applier, XlsxWriter's translation and COM's (which
    the VBA client is sent too) each wrote 「&{footer_size}{footer}」 themselves."""
    assert attribute_readers("footer_size") == {"renkei_xl/core/plan_types.py"}


def percent_arithmetic(root: Path = PACKAGE) -> list[str]:
    """Where a number is multiplied by 100 (a fraction made a percent) outside core.values."""
    return [f"{path.relative_to(root.parent).as_posix()}:{node.lineno}" for path in sorted(root.rglob("*.py"))
            if path.name != "values.py" or path.parent.name != "core"
            for node in ast.walk(_tree(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)
            and any(isinstance(side, ast.Constant) and side.value == 100 for side in (node.left, node.right))]


def test_a_fraction_is_made_a_percent_in_one_place():
    """values.format_percent (a rate as printed) and values.typed_percent (the percent Excel
    stores a fraction as, every digit kept): validate, rules and percent_cells each worked
    the second out themselves, percent_cells with its own trimming of the digits."""
    assert percent_arithmetic() == []


def test_the_percent_and_footer_checks_see_a_copy(tmp_path):
    (tmp_path / "m.py").write_text("def f(n, ps):\n    return f'{n * 100:g}%', 100 * n, n / 100, "
                                   "f'&{ps.footer_size}{ps.footer}'\n")
    assert percent_arithmetic(tmp_path) == [f"{tmp_path.name}/m.py:2", f"{tmp_path.name}/m.py:2"]
    assert attribute_readers("footer_size", tmp_path) == {f"{tmp_path.name}/m.py"}


# The header texts the contract gives the columns the tool reads and writes: 指標's, a
# municipality sheet's, 設定's table's, 一覧's and the 配布時 columns'. 検証結果's
# (FINDING_COLUMNS) are left out: シート, セル and 内容 are words of every message.
HEADER_TEXTS = frozenset({*c.INDICATOR_HEADERS.values(), *c.ENTRY_HEADERS.values(), *c.MUNI_HEADERS.values(),
                          *c.LIST_COLUMNS, *c.ISSUED_HEADERS.values()})
# Where a text is typed: the headers in core.contract, the symbols in core.symbols.
TYPED_IN = {"header": "renkei_xl/core/contract.py", "symbol": "renkei_xl/core/symbols.py"}
# A string that is a header's or a symbol's text elsewhere on purpose, by module, and why.
NOT_A_COPY = {
    ("renkei_xl/core/layout.py", "区分"):
        "集計's first header: its rows are the 役割s, no column of 設定's 区分",
    ("renkei_xl/cycle/letters.py", "市町村名"):
        "the request letter's placeholder {市町村名} (REQUEST_SUBJECT, REQUEST_BODY), filled as "
        "{圏域名} and {回答期限} are: it must match the template's text, not a header",
    ("renkei_xl/cycle/letters.py", "担当部署"):
        "the request letter's placeholder {担当部署}, as {市町村名}",
    ("renkei_xl/core/methods.py", NOT_EVALUABLE):
        "NO_VALUE: the printed list's dash in a cell with no value (基準値, 実績値), 評価不可's "
        "character with another meaning: a new 評価不可 symbol must not change it",
}
# A string naming three or more symbols (a set of them typed again) elsewhere on purpose.
SYMBOLS_SAID_ELSEWHERE = {
    "renkei_xl/core/contract.py": "legend(): the official list's legend line, word for word as printed",
}


def typed_again(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """(module, text) of each string that is a header's or a symbol's whole text outside the
    module it is typed in: 経年's headers, 次の一歩's, the command line's table and a finding's
    column names were typed again (issue 20, shape-2 item 3), and contract.SYMBOL_FILLS typed
    the five symbols as its keys."""
    found = set()
    for path, _, text in code_strings(root):
        kind = "header" if text in HEADER_TEXTS else "symbol" if text in SYMBOLS else None
        if kind and path != TYPED_IN[kind].replace("renkei_xl/", f"{root.name}/", 1):
            found.add((path, text))
    return found


def symbol_sets_typed(root: Path = PACKAGE) -> set[str]:
    """The modules with a string naming three or more symbols: a message listing them takes
    symbols.SYMBOLS_SAID or EVALUABLE_SAID (「◎ □ × － ―」 was typed in three messages)."""
    return typed_with("".join(SYMBOLS), root=root) - {TYPED_IN["symbol"].replace("renkei_xl/", f"{root.name}/", 1)}


def test_no_header_or_symbol_is_typed_again():
    assert typed_again() == set(NOT_A_COPY)
    assert symbol_sets_typed() == set(SYMBOLS_SAID_ELSEWHERE)


def test_the_header_and_symbol_checks_see_a_copy(tmp_path):
    (tmp_path / "m.py").write_text('"""指標ID in a docstring is prose."""\nHEADS = ("指標ID", "連携事業名", "理由")\n'
                                   'FILLS = {"◎": "C6EFCE"}\nSAID = f"{n} は ◎ □ × のどれか"\nWORDS = "指標IDの列"\n',
                                   encoding="utf-8")
    here = f"{tmp_path.name}/m.py"
    assert typed_again(tmp_path) == {(here, "指標ID"), (here, "連携事業名"), (here, "◎")}
    assert symbol_sets_typed(tmp_path) == {here}


def test_the_symbols_fills_and_said_lists_take_the_one_definition():
    """looks.SYMBOL_FILLS colours each symbol (contract typed them again as its keys), and the
    lists messages show are the symbols' own."""
    from renkei_xl.core.looks import SYMBOL_FILLS
    from renkei_xl.core.symbols import EVALUABLE_SAID, SYMBOLS_SAID

    assert set(SYMBOL_FILLS) == set(SYMBOLS) and not hasattr(c, "SYMBOL_FILLS")
    assert SYMBOLS_SAID == "◎ □ × － ―" and EVALUABLE_SAID == "◎□×"
