"""Property: every row of a CSV file is either read exactly, at its true line, or refused at its line.

Hypothesis writes tables of awkward values (quotes, commas, line breaks inside values, NA/NULL
words, Chinese text, surrounding spaces, empty values) with a standard CSV writer, mixed with
blank lines and rows of the wrong width, in UTF-8 or GB18030, with LF or CRLF line ends (a lone
CR counts as a line end too, as editors count it); the reader must give back each good row's
values and line, and each bad row's line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.readers import read_table

HEADER = ["institution_id", "name", "kind"]
_LINE_END = re.compile(r"\r\n|\r|\n")  # what editors (and the reader) count as a line end
_ALPHABET = st.sampled_from([*'ab,"\n\r 中文医院 \t;\'', "NA", "NULL", "N/A", "null", "\r\n"])
VALUE = st.lists(_ALPHABET, max_size=6).map("".join)
GOOD = st.tuples(VALUE, VALUE, VALUE).map(lambda t: ("good", list(t)))
# a row of the wrong width that is not blank (a blank line is skipped, not refused)
BAD = st.lists(VALUE, min_size=1, max_size=5).filter(lambda r: len(r) != 2).map(lambda r: ("bad", ["x", *r]))
BLANK = st.just(("blank", []))
ROWS = st.lists(st.one_of(GOOD, GOOD, BAD, BLANK), max_size=25)


def _render(rows: list[tuple[str, list[str]]], newline: str) -> tuple[str, list[tuple[str, int, list[str]]]]:
    """The file text and, per row, (kind, line it starts on, values)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    # Python's writer quotes only what its own line end holds; a lone \r must be quoted too
    quoting = csv.writer(out, lineterminator=newline, quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    placed = []
    for kind, values in rows:
        line = len(_LINE_END.findall(out.getvalue())) + 1
        if kind == "blank":
            out.write(newline)
        else:
            (quoting if any("\r" in v for v in values) else writer).writerow(values)
        placed.append((kind, line, values))
    return out.getvalue(), placed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, newline=st.sampled_from(["\n", "\r\n"]), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_every_row_is_read_exactly_or_refused_at_its_line(
    tmp_path: Path, rows: list[tuple[str, list[str]]], newline: str, encoding: str
) -> None:
    text, placed = _render(rows, newline)
    path = tmp_path / "institutions.csv"
    path.write_bytes(text.encode(encoding))

    raw = read_table(path, "institutions")

    good = [(line, [v if v != "" else None for v in values])  # only the empty value is empty
            for kind, line, values in placed if kind == "good"]
    got = list(zip(raw.lines.tolist(), raw.table.to_pylist(), strict=True))
    assert [(line, [row[h] for h in HEADER]) for line, row in got] == good
    assert [m.line for m in raw.malformed] == [line for kind, line, _ in placed if kind == "bad"]
    assert all(m.reason.startswith("expected 3 columns, got ") for m in raw.malformed)
