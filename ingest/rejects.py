"""Rejects and warnings files.

A rejects file holds each refused row with its line number, the reason and the row as it was
read; a warnings file each field left out of a loaded row: line, field, the value as written and
the reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ingest.readers import RawTable
from ingest.validate import Validated


def rejects_frame(raw: RawTable, validated: Validated) -> pd.DataFrame:
    rows = raw.table.take(pa.array(validated.rejected_rows, pa.int64()))
    frame = pd.DataFrame({c: rows.column(c).cast(pa.string()).to_pandas() for c in rows.column_names})
    frame.insert(0, "reason", validated.reasons)
    frame.insert(0, "line", raw.lines[validated.rejected_rows])
    if raw.malformed:
        frame["row_text"] = None
        broken = pd.DataFrame(
            {
                "line": [m.line for m in raw.malformed],
                "reason": [m.reason for m in raw.malformed],
                "row_text": [m.text for m in raw.malformed],
            }
        )
        frame = pd.concat([frame, broken], ignore_index=True)
    return frame.sort_values("line", kind="stable").reset_index(drop=True)


def warnings_frame(raw: RawTable, validated: Validated) -> pd.DataFrame:
    w = validated.warnings
    return pd.DataFrame({
        "line": raw.lines[np.asarray([x.row for x in w], dtype=np.int64)] if w else np.zeros(0, np.int64),
        "field": [x.column for x in w],
        "value": [x.value for x in w],
        "reason": [x.reason for x in w],
    })


def write_rejects(path: Path, frame: pd.DataFrame) -> None:
    """Write (or, with nothing in it, remove a stale) rejects or warnings file; BOM so Excel reads Chinese."""
    if frame.empty:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8-sig")
