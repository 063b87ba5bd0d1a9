"""``history import`` of a 経年 CSV (the tool's simple layout and Excel's own save of the
経年 sheet) whose lines, fields, quoting, separators, line ends, encodings and size are
damaged, then ``recalc`` of the master it went into. A defect is what the oracle
(fuzzlib.problem) calls one; a refused import must leave the master as it was."""

from __future__ import annotations

import csv
import io

from fuzzlib import Case, copy_to, problem, run_cli

NAME = "csv"
SIMPLE = ('指標ID,年度,実績値,評価\r\n08-1,2022,15件,×\r\n06-1,令和4年度,10件,◎\r\n02-1,2023,3回,◎\r\n'
          'KPI1-2,2021,"30,273千人（2021年度）",－\r\n')
FIELDS = ['', ' ', '"', '""', '"a""b"', '\x00', '\ufeff', '\u200b', '1e400', 'NaN', '-0', '2022', '２０２２', '令和4年度', 'R4', 'H30',
          '平成31年度', '令和元年度', '0', '-1', '99999999999999999999', '2023年度', '2024年度 実績値', '2023年度 評価', '指標ID', '年度',
          '実績値', '評価', '◎', '□', '×', '－', '―', '○', '08-1', '08-1 ', '０８－１', 'KPI1-2', '#N/A', '#REF!', 'TRUE', 'FALSE',
          '=1+1', '=HYPERLINK("x")', 'x' * 40000, 'あ' * 140000, '15件\n（速報値）', '\r', 'a\rb', '𠮷', '\udcff', '\ud800',
          '2022\t2021', ';', ',', '年度 実績値', '2023年度 目標値', '1900年度', '10000年度', '2023年度 実績値 2023年度 評価',
          '令和99999999999年度', '１９８９年度', '昭和64年度']
ENCODINGS = ['utf-8', 'utf-8-sig', 'cp932', 'utf-16', 'utf-16-le', 'utf-16-be', 'utf-32', 'euc-jp', 'iso-2022-jp', 'latin-1',
             'shift_jis_2004', 'gb18030', 'utf-7']


def prepare(masters: dict, tmp):
    """Excel's own layout: the 経年 sheet of the FY2024 master as a CSV, read once."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(masters["next"])).get_sheet_by_name("経年").to_python()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([["" if v is None else str(v) for v in r] for r in rows])
    return {**masters, "sources": [buf.getvalue(), SIMPLE]}


def mutate_rows(rows: list, rng) -> list:
    k = rng.randrange(9)
    i = rng.randrange(len(rows)) if rows else 0
    if not rows or k == 5:
        rows.insert(i, [rng.choice(FIELDS) for _ in range(rng.randrange(0, 8))])
    elif k == 0:
        rows[i] = list(rows[i]) or ['']
        rows[i][rng.randrange(len(rows[i]))] = rng.choice(FIELDS)
    elif k == 1:
        rows.insert(i, list(rng.choice(rows)))
    elif k == 2:
        del rows[i]
    elif k == 3:
        rows[i] = rows[i] + [rng.choice(FIELDS)] * rng.randrange(1, 5)
    elif k == 4:
        rows[i] = rows[i][:rng.randrange(len(rows[i]) + 1)]
    elif k == 6:
        rows[i] = ['"' + f if rng.random() < .5 else f + '"' for f in rows[i]]
    elif k == 7:
        rows[:] = (rows * rng.choice([2, 50, 3000]))[:20000]
    else:
        old, new = rng.choice(['年度', '実績値', '評価', '指標ID', '件', '-']), rng.choice(['', '年', '　', 'ID', ' 年度', '－'])
        rows[i] = [f.replace(old, new) for f in rows[i]]
    return rows


def render(rows: list, rng) -> bytes:
    """The rows as a file: a separator, a line end, quoting, an encoding, and now and then
    a cut, stray bytes or a tail of NULs."""
    sep, eol = rng.choice([',', ',', ',', '\t', ';']), rng.choice(['\r\n', '\r\n', '\n', '\r', '\n\r'])
    if rng.random() < .6:
        buf = io.StringIO()
        csv.writer(buf, delimiter=sep, lineterminator=eol, quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])).writerows(rows)
        text = buf.getvalue()
    else:
        text = eol.join(sep.join(r) for r in rows)
    if rng.random() < .1:
        text = text[:rng.randrange(len(text) + 1)]
    encoding = rng.choice(['utf-8', 'utf-8-sig', 'cp932'] if rng.random() < .7 else ENCODINGS)
    try:
        data = text.encode(encoding, errors=rng.choice(['strict', 'replace', 'surrogateescape']))
    except Exception:
        data = text.encode('utf-8', errors='surrogatepass')
    if rng.random() < .1:
        i = rng.randrange(len(data) + 1)
        data = data[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4))) + data[i:]
    if rng.random() < .05:
        data += b'\x00' * rng.choice([1, 1000, 3_000_000])
    if rng.random() < .25:
        data = _damage_lines(data, rng)
    return data


def _damage_lines(data: bytes, rng) -> bytes:
    """What editors and concatenation leave in a real file: a BOM at a line's start mid-file
    (two CSVs joined), NUL bytes, line ends of every kind in one file, a million empty lines."""
    lines = data.splitlines(keepends=True) or [b'']
    i = rng.randrange(len(lines))
    kind = rng.randrange(4)
    if kind == 0:
        lines[i] = rng.choice([b'\xef\xbb\xbf', b'\xff\xfe', b'\xef\xbb\xbf\xef\xbb\xbf']) + lines[i]
    elif kind == 1:
        j = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:j] + b'\x00' * rng.choice([1, 2, 7]) + lines[i][j:]
    elif kind == 2:
        lines = [line.rstrip(b'\r\n') + rng.choice([b'\r\n', b'\n', b'\r', b'\n\r', b'\x0b', b'\x0c', b'\xe2\x80\xa8', b'\x85']) for line in lines]
    else:
        lines.insert(i, rng.choice([b'\r\n', b'\n', b',,,\r\n']) * rng.choice([1000, 1_000_000]))
    return b''.join(lines)


def run_case(context: dict, case: Case) -> list:
    rng = case.rng
    text = rng.choice(context["sources"])
    rows = [list(r) for r in csv.reader(io.StringIO(text, newline=''))]
    for _ in range(rng.randrange(1, 5)):
        rows = mutate_rows(rows, rng)
    path = case.folder / "経年.csv"
    path.write_bytes(render(rows, rng))
    case.inputs.append(path)
    master = copy_to(context["next"], case.folder)
    first = run_cli(["history", "import", master, path], case.folder, guard=master)
    if problem(first) or first.rc == 2:
        return [first]
    return [first, run_cli(["recalc", master], case.folder, guard=master)]
