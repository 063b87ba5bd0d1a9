"""Each kind of finding is defined once (renkei_xl.core.findings): the places that find
something say where and fill in values, never a message of their own."""

import ast
import unicodedata
from pathlib import Path

from renkei_xl.core import findings as F, values
from renkei_xl.core.model import ERROR, WARNING, Entry
from renkei_xl.core.validate import validate

PKG = Path(__file__).resolve().parents[1] / "renkei_xl"


def test_no_module_but_the_catalogue_makes_a_finding():
    """Only the modules whose text names ``Finding`` (as Python reads an identifier: NFKC)
    are parsed, a sixth of the package: no call of it can be written without its name."""
    makers = []
    for path in PKG.rglob("*.py"):
        if path == PKG / "core" / "findings.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "Finding" not in unicodedata.normalize("NFKC", text):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Finding":
                makers.append(f"{path.relative_to(PKG)}:{node.lineno}")
    assert not makers, makers


def test_each_type_once_with_its_level_and_templates():
    assert len({t.code for t in F.CATALOGUE.values()}) == len(F.CATALOGUE)
    for code, t in F.CATALOGUE.items():
        assert t.code == code and t.level in (ERROR, WARNING) and t.message, code
    codes = [v for k, v in vars(values).items() if k.isupper() and isinstance(v, str)
             and k in ("UNPARSEABLE", "APPROXIMATE", "RANGE", "TOO_LONG", "TOO_LARGE", "CONTROL", "DEADLINE_FORM")]
    assert set(codes) <= set(F.UNREADABLE), "a parse error without its finding type"


def test_a_type_fills_its_templates_and_keeps_its_level_unless_told():
    f = F.UNIT_MISMATCH.at("小樽市", "E5", "04-1", label="実績値", value="3人", expected="「件」")
    assert (f.type, f.severity, f.place) == ("unit-mismatch", ERROR, "小樽市!E5")
    assert f.message == "実績値「3人」の単位が「件」と違います" and "「件」" in f.hint
    assert F.UNIT_MISMATCH.at("指標", "K9", level=WARNING, label="", value="", expected="").severity == WARNING


def test_a_duplicated_id_reads_alike_on_指標_and_on_a_municipality_sheet(fy2023):
    ind = next(i for i in fy2023.indicators if i.id == "06-1")
    inds = [ind._replace(cells={"id": "A9"}), ind._replace(cells={"id": "A12"})]
    rows = [Entry("小樽市", "04-1", "3件", sheet="小樽市", cells={"indicator_id": f"A{r}", "value": f"E{r}"})
            for r in (5, 7)]
    found = [f for f in validate(fy2023.settings, [*(i for i in fy2023.indicators if i.id != "06-1"), *inds], rows) if f.type == "duplicate-id"]
    by_sheet = {f.sheet: f for f in found}
    assert by_sheet["指標"].message == "指標ID「06-1」が重複しています（指標!A9 と同じ）"
    assert by_sheet["小樽市"].message == "指標ID「04-1」が重複しています（小樽市!A5 と同じ）"
    assert by_sheet["指標"].hint == by_sheet["小樽市"].hint == F.DUPLICATE_ID.hint


def test_the_printout_and_the_buttons_message_show_every_error_each_on_one_line(capsys):
    """`renkei-xl validate` printed its first 30 findings in the order found: a sheet of warnings
    (分母 typed on 札幌市's rows) hid the errors on later sheets that 「エラー 4 件」 and the exit
    code spoke of behind 「… ほか 48 件」. It lists the errors first (listed_findings).
    A value quoted with its line break broke a finding's line in two, there and in the button's
    message: each is one line (Finding.said)."""
    from renkei_xl.cli.workbook import print_findings
    from renkei_xl.excel.buttons import _findings_parts

    warnings = [F.IGNORED_DENOMINATOR.at("札幌市", f"F{r}", f"{r:02}-1", method="合計", value="5")
                for r in range(2, 42)]
    error = F.UNREADABLE[values.APPROXIMATE].at("長沼町", "E7", "28-1", label="実績値",
                                                reason="「約10件\n2行目」は概数・見込みの表記（「約」）です")
    print_findings([*warnings, error])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"  [{ERROR}] 長沼町!E7 28-1: {error.said}", lines
    assert "約10件⏎2行目" in error.said and len(lines) == 11 and lines[-1].startswith("  … ほか 31 件"), lines
    assert all(line.startswith("  [") for line in lines[:-1]), lines
    listing = _findings_parts([*warnings, error])[1]
    assert [f"  {item[1:]}" for item in listing.items] == lines[:-1], listing.items
    assert listing.render(len(listing.items)).endswith("　…ほか 31 件（シート「検証結果」を見てください）")


def test_both_faces_list_the_same_findings_in_the_same_order(capsys):
    """入力チェック's button listed the errors alone (「検証: エラー 1 件、警告 2 件」 and one line)
    where `renkei-xl validate` printed the warnings with them, for the same master, and in
    the order found: both list the errors first, then the warnings (listed_findings)."""
    from renkei_xl.cli.workbook import print_findings
    from renkei_xl.excel.buttons import _findings_parts

    found = [F.IGNORED_DENOMINATOR.at("札幌市", "F2", "02-1", method="合計", value="5"),
             F.UNKNOWN_ID.at("小樽市", "A9", "04 1", id="04 1", like=""),
             F.IGNORED_DENOMINATOR.at("札幌市", "F3", "03-1", method="合計", value="5")]
    print_findings(found)
    printed = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    counts, listing = _findings_parts(found)
    assert counts == "検証: エラー 1 件、警告 2 件"
    assert [item.split()[1] for item in listing.items] == printed == ["小樽市!A9", "札幌市!F2", "札幌市!F3"], printed
