"""Akeneo's CSV files: ``;`` separated, UTF-8, a header row, quoted multi-line cells."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pim.errors import Problem

DELIMITER = ";"
_LABEL = re.compile(r"^label-(.+)$")


@dataclass(frozen=True)
class Row:
    """One data row: its line number in the file and its cells by column name."""

    file: str
    line: int
    cells: Mapping[str, str]

    def get(self, column: str, default: str = "") -> str:
        """The cell of ``column``, stripped (``default`` when the file has no such column)."""
        return (self.cells.get(column) or default).strip()

    def problem(self, message: str, column: str | None = None) -> Problem:
        """A problem located at this row (and column)."""
        return Problem(self.file, message, self.line, column)

    def labels(self) -> dict[str, str]:
        """The ``label-<locale>`` cells that are not empty."""
        return {
            m.group(1): value.strip()
            for name, value in self.cells.items()
            if (m := _LABEL.match(name)) and value and value.strip()
        }

    def codes(self, column: str) -> tuple[str, ...]:
        """A comma-separated list of codes."""
        return tuple(c.strip() for c in self.get(column).split(",") if c.strip())

    def flag(self, column: str, problems: list[Problem], default: bool = False) -> bool:
        """A ``0``/``1`` cell (Akeneo also writes ``true``/``false``)."""
        text = self.get(column).lower()
        if not text:
            return default
        if text in ("1", "true", "yes"):
            return True
        if text in ("0", "false", "no"):
            return False
        problems.append(self.problem(f"expected 0 or 1, got {text!r}", column))
        return default


def read_rows(
    path: Path, problems: list[Problem], required: Iterable[str] = ("code",)
) -> list[Row]:
    """Every data row of an Akeneo CSV file; problems (bad UTF-8, missing columns, cells not
    matching the header) are appended to ``problems``."""
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problems.append(Problem(name, f"invalid UTF-8 (byte 0x{exc.object[exc.start]:02x})", line))
        return []
    except OSError as exc:
        problems.append(Problem(name, f"cannot read: {exc.strerror}"))
        return []
    reader = csv.reader(text.splitlines(keepends=True), delimiter=DELIMITER)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(Problem(name, "the file is empty; expected a header row"))
        return []
    except csv.Error as exc:
        problems.append(Problem(name, f"not valid CSV: {exc}", 1))
        return []
    missing = [c for c in required if c not in header]
    for column in missing:
        problems.append(Problem(name, "missing required column", 1, column))
    if missing:
        return []
    rows: list[Row] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(name, f"not valid CSV: {exc}", start))
            break
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                Problem(
                    name, f"expected {len(header)} cells like the header, got {len(cells)}", line
                )
            )
            continue
        rows.append(Row(name, line, dict(zip(header, cells, strict=True))))
    return rows


def write_rows(out: TextIO, header: list[str], rows: Iterable[Mapping[str, str]]) -> int:
    """Write rows (cells by column name; missing cells empty) under ``header``."""
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
        count += 1
    return count


def label_columns(items: Iterable[Mapping[str, str]]) -> list[str]:
    """``label-<locale>`` columns for every locale some item has a label in, sorted."""
    return [f"label-{loc}" for loc in sorted({loc for labels in items for loc in labels})]
