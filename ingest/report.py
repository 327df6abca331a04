"""What an ingest reports: rows read, loaded, rejected and warned per table, file warnings, timings."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TableReport(BaseModel):
    table: str
    file: str
    read: int = Field(description="data rows in the file (malformed lines included)")
    loaded: int
    rejected: int
    warnings: int = Field(0, description="fields left out of loaded rows (see the warnings file)")
    seconds: float


class IngestReport(BaseModel):
    in_dir: str
    load_batch: str
    tables: list[TableReport]
    seconds: float
    rejects_dir: str
    warnings_dir: str = ""
    file_warnings: list[str] = Field(default_factory=list, description="files of the folder not loaded")
    writes: dict[str, int] = Field(default_factory=dict, description="rows written per label / type")
    phases: dict[str, float] = Field(
        default_factory=dict, description="seconds per step: read, validate:<table>, write:<label/type>"
    )

    @property
    def read(self) -> int:
        return sum(t.read for t in self.tables)

    @property
    def loaded(self) -> int:
        return sum(t.loaded for t in self.tables)

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.tables)

    @property
    def warnings(self) -> int:
        return sum(t.warnings for t in self.tables) + len(self.file_warnings)

    @property
    def rows_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when every row loaded (warnings or not), 2 when some were rejected (fatal errors raise)."""
        return 2 if self.rejected else 0

    def table(self, name: str) -> TableReport:
        for t in self.tables:
            if t.table == name:
                return t
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [f"{'table':<14}{'read':>11}{'loaded':>11}{'rejected':>10}{'warnings':>10}{'seconds':>9}"]
        for t in self.tables:
            lines.append(f"{t.table:<14}{t.read:>11,}{t.loaded:>11,}{t.rejected:>10,}{t.warnings:>10,}"
                         f"{t.seconds:>9.1f}")
        field_warnings = sum(t.warnings for t in self.tables)
        lines.append(
            f"{'total':<14}{self.read:>11,}{self.loaded:>11,}{self.rejected:>10,}{field_warnings:>10,}"
            f"{self.seconds:>9.1f}"
        )
        lines.append(f"{self.rows_per_s:,.0f} rows/s; load batch {self.load_batch}")
        if self.rejected:
            lines.append(f"rejected rows with line and reason: {self.rejects_dir}/<table>.csv")
        if field_warnings:
            lines.append(f"fields left out of loaded rows, with line and reason: "
                         f"{self.warnings_dir}/<table>.csv")
        for note in self.file_warnings:
            lines.append(f"warning: file {note}")
        return "\n".join(lines)
