"""Project configuration: `vitrina.toml`, read with tomllib, errors naming the key."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pim.errors import ConfigError

CONFIG_FILE = "vitrina.toml"

STARTER = """\
# Vitrina project configuration. Paths are relative to this file.

[catalogue]
# SQLite file or PostgreSQL URL (postgresql://user:password@host/db); $VITRINA_DB wins.
db = "vitrina.db"
# Where media files are stored by content hash (default: beside the SQLite file).
# media = "media"
"""


@dataclass(frozen=True, slots=True)
class Config:
    """Settings read from ``vitrina.toml``."""

    path: Path | None = None
    db: str | None = None
    media: str | None = None


def _string(section: dict[str, Any], key: str, where: str, file: str) -> str | None:
    value = section.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}.{key}", f"expected a string, got {type(value).__name__}", file)
    return value


def load_config(path: Path | None = None) -> Config:
    """Read ``path`` (default: ``./vitrina.toml`` when it exists)."""
    if path is None:
        path = Path(CONFIG_FILE)
        if not path.is_file():
            return Config()
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config", f"no such file: {file}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"not valid TOML: {exc}", file) from None
    catalogue = data.get("catalogue", {})
    if not isinstance(catalogue, dict):
        raise ConfigError("catalogue", "expected a table [catalogue]", file)
    unknown = set(catalogue) - {"db", "media"}
    if unknown:
        raise ConfigError(
            f"catalogue.{sorted(unknown)[0]}", "unknown key; expected db or media", file
        )
    base = path.parent
    db = _string(catalogue, "db", "catalogue", file)
    media = _string(catalogue, "media", "catalogue", file)
    if db is not None and "://" not in db:
        db = str(base / db)
    if media is not None:
        media = str(base / media)
    return Config(path, db, media)


def write_starter(path: Path) -> bool:
    """Write a commented starter configuration unless one exists; True if written."""
    if path.exists():
        return False
    path.write_text(STARTER, encoding="utf-8")
    return True
