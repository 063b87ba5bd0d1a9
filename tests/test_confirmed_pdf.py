"""A 確定版 written again after a change, with no PDF made this time, beside the PDF of the
earlier one: the command without --pdf (and the server's button, which makes none) kept the
earlier .xlsx in its backup folder and said so, and left the earlier PDF beside the new
.xlsx without a word, for staff to mail the two as a pair (README: 確定版を書き出し)."""

from pathlib import Path

import openpyxl

from realbooks import sample_master
from renkei_xl.cli import main


def _set_actual(master: Path, municipality: str, ind_id: str, value) -> None:
    wb = openpyxl.load_workbook(master)
    ws = wb[municipality]
    head = next(r for r in ws.iter_rows(max_row=10) if any(c.value == "指標ID" for c in r))
    cols = {c.value: c.column for c in head}
    for r in range(head[0].row + 1, ws.max_row + 1):
        if ws.cell(r, cols["指標ID"]).value == ind_id:
            ws.cell(r, cols["実績値"]).value = value
            wb.save(master)
            return
    raise AssertionError(f"{ind_id} not on {municipality}")


def test_an_earlier_pdf_left_beside_a_changed_confirmed_list_is_named(tmp_path, capsys):
    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "確定版" / "一覧.xlsx"
    assert main(["export", str(master), "-o", str(out)]) == 0
    # What `export --pdf` left there before (the PDF's bytes do not matter to what is said).
    out.with_suffix(".pdf").write_bytes(b"%PDF-1.4 earlier list\n")
    assert main(["export", str(master), "-o", str(out)]) == 0
    assert "一覧.pdf" not in capsys.readouterr().out      # the same list: that PDF still matches it
    _set_actual(master, "小樽市", "04-1", 5)
    assert main(["export", str(master), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "前に書き出した内容の違う確定版は" in said
    assert "「一覧.pdf」は前の確定版の PDF のままで、今の確定版と内容が違います" in said, said
    assert out.with_suffix(".pdf").read_bytes() == b"%PDF-1.4 earlier list\n"     # named, not touched


def test_no_pdf_no_word(tmp_path, capsys):
    """A changed 確定版 with no PDF beside it says only where the earlier .xlsx is."""
    master = sample_master(tmp_path / "マスター.xlsx")
    out = tmp_path / "一覧.xlsx"
    assert main(["export", str(master), "-o", str(out)]) == 0
    _set_actual(master, "小樽市", "04-1", 5)
    capsys.readouterr()
    assert main(["export", str(master), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "前に書き出した内容の違う確定版は" in said and ".pdf" not in said
