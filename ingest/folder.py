"""Which files of an export folder are contract tables, and what else is there.

A table is ``<table>.csv``, ``.parquet`` or ``.xlsx``, named exactly. Anything else is reported
(never silently skipped): a name close to a table's (``claim.csv``, ``claims.CSV``) is most
likely a table the bureau meant to give. A link whose target lies outside the folder is refused
before it is opened, so that nothing of a file the export does not own (``/etc/passwd``) is read
or printed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from graph.errors import FatalInputError
from ingest import reasons
from ingest.contract import FILE_SUFFIXES, TABLES


@dataclass
class Folder:
    tables: dict[str, Path]
    warnings: list[str] = field(default_factory=list)  # files not loaded, one reason each


def _near_table(path: Path) -> str | None:
    """The contract file name ``path`` was probably meant to have, if any."""
    stem, suffix = path.stem.lower(), path.suffix.lower()
    close = difflib.get_close_matches(stem, list(TABLES), n=1, cutoff=0.8)
    if not close:
        return None
    return f"{close[0]}{suffix if suffix in FILE_SUFFIXES else '.csv'}"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(root)
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a link loop
        return False
    return True


def scan(in_dir: Path) -> Folder:
    """The table files of ``in_dir`` and a warning for every other file in it."""
    if not in_dir.is_dir():
        raise FatalInputError("not a folder", file=str(in_dir))
    root = in_dir.resolve()
    expected = {f"{name}{suffix}": name for name in TABLES for suffix in FILE_SUFFIXES}
    found: dict[str, list[Path]] = {}
    notes: list[str] = []
    for path in sorted(in_dir.iterdir()):
        if path.name.startswith(".") or (path.is_dir() and not path.is_symlink()):
            continue  # hidden files, and folders (the loader's own _rejects/_warnings among them)
        name = expected.get(path.name)
        if name is not None:
            if not _inside(path, root):
                raise FatalInputError(
                    "a link to a file outside the folder (or a broken link); refused: copy the file "
                    "into the folder instead", file=str(path))
            found.setdefault(name, []).append(path)
            continue
        near = _near_table(path)
        notes.append(reasons.near_table_name(path.name, near) if near else reasons.unknown_file(path.name))
    for name, paths in found.items():
        if len(paths) > 1:
            raise FatalInputError(
                f"table {name} is given twice ({', '.join(p.name for p in paths)}); keep one file per table",
                file=str(in_dir),
            )
    if not found:
        raise FatalInputError(
            "no input tables found; expected files named "
            + ", ".join(f"{n}.csv" for n in TABLES)
            + " (or .parquet / .xlsx)"
            + (f" ({'; '.join(notes)})" if notes else ""),
            file=str(in_dir),
        )
    return Folder({name: found[name][0] for name in TABLES if name in found}, notes)
