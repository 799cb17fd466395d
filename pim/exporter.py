"""Export the catalogue in the formats it imports, losslessly: structure, products, media.

``DIR/structure.yaml``, ``DIR/product_models.<csv|jsonl>``, ``DIR/products.<csv|jsonl>`` and
``DIR/media/<key>``; importing the folder again gives the same catalogue. Each file is
written to a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from pim import csv_format, jsonl_format
from pim.errors import ConfigError
from pim.instructions import instructions_text, step_images, with_step_images
from pim.media import MediaStore
from pim.records import ProductRecord
from pim.structure import MEDIA_TYPES, Structure, dump_structure

FORMATS = ("csv", "jsonl")
Records = Callable[[str], Iterator[ProductRecord]]
"""Returns the records of one kind (``product`` or ``model``), in SKU order."""


@dataclass
class ExportReport:
    """Files written by an export and how many records each holds."""

    directory: str
    files: dict[str, int] = field(default_factory=dict)


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write a text file under a temporary name, renamed to ``path`` when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_catalogue(
    structure: Structure, store: MediaStore, records: Records, directory: Path, fmt: str = "csv"
) -> ExportReport:
    """Write the whole catalogue into ``directory``."""
    if fmt not in FORMATS:
        raise ConfigError("format", f"unknown export format {fmt!r}; expected csv or jsonl")
    report = ExportReport(str(directory))
    with atomic_text(directory / "structure.yaml") as fh:
        yaml.safe_dump(dump_structure(structure), fh, allow_unicode=True, sort_keys=False)
    report.files["structure.yaml"] = 1
    media_attrs = {c for c, a in structure.attributes.items() if a.type in MEDIA_TYPES}
    instruction_attrs = {c for c, a in structure.attributes.items() if a.type == "instructions"}
    used_media: set[str] = set()

    def text_of(code: str, data: Any) -> Any:
        if code in media_attrs:
            used_media.add(data)
            return f"media/{data}"
        if code in instruction_attrs:
            images = {key: f"media/{key}" for key in step_images(data)}
            used_media.update(images)
            return (
                instructions_text(data, images) if fmt == "csv" else with_step_images(data, images)
            )
        return data

    for kind, name in (("model", "product_models"), ("product", "products")):
        target = directory / f"{name}.{fmt}"
        if fmt == "csv":
            columns = _csv_columns(records(kind), structure)
            system = csv_format.system_columns(records(kind), structure)
            with atomic_text(target) as fh:
                count = csv_format.write_records(
                    fh,
                    records(kind),
                    columns,
                    "code" if kind == "model" else "sku",
                    lambda code, data: str(text_of(code, data)),
                    system,
                )
        else:
            with atomic_text(target) as fh:
                count = 0
                for record in records(kind):
                    fh.write(
                        json.dumps(
                            jsonl_format.document(record, text_of),
                            ensure_ascii=False,
                            separators=(",", ":"),
                            sort_keys=True,
                        )
                        + "\n"
                    )
                    count += 1
        report.files[target.name] = count
    for key in sorted(used_media):
        target = directory / "media" / key
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(store.path_for(key), target)
    report.files["media/"] = len(used_media)
    return report


def _csv_columns(records: Iterator[ProductRecord], structure: Structure) -> list[str]:
    seen: dict[str, tuple[int, int, int, str]] = {}
    attr_pos = {code: i for i, code in enumerate(structure.attributes)}
    loc_pos = {code: i for i, code in enumerate(structure.locales)}
    scope_pos = {code: i for i, code in enumerate(structure.channels)}
    for record in records:
        for code, entries in record.values.items():
            for entry in entries:
                for name in csv_format.value_columns(code, entry):
                    if name not in seen:
                        seen[name] = (
                            attr_pos.get(code, 1 << 30),
                            loc_pos.get(entry["locale"] or "", -1),
                            scope_pos.get(entry["scope"] or "", -1),
                            name,
                        )
    return sorted(seen, key=seen.__getitem__)
