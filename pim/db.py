"""Database engines: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import create_engine

from pim import schema
from pim.errors import ConfigError

DEFAULT_DB = "vitrina.db"


def database_url(db: str | os.PathLike[str] | None = None) -> str:
    """The SQLAlchemy URL for ``db``: a URL, a SQLite file path, or ``$VITRINA_DB``."""
    raw = str(db) if db is not None else os.environ.get("VITRINA_DB") or DEFAULT_DB
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    if raw.startswith(("postgres://", "postgresql://")):
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    try:
        make_url(raw)
    except ArgumentError as exc:
        raise ConfigError("db", f"not a database URL: {exc}") from None
    return raw


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


JSON_CODEC: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
"""orjson for the JSON columns: product values are most of what is read and written."""


def make_engine(url: str, *, check_schema: bool = True) -> Engine:
    """An engine for ``url``: an empty database gets the tables; one with an older schema is
    refused (:class:`pim.schema.SchemaError`) unless ``check_schema`` is false."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **JSON_CODEC)
        event.listen(engine, "connect", _sqlite_pragmas)
    elif url.startswith("postgresql"):
        engine = create_engine(url, pool_pre_ping=True, **JSON_CODEC)
    else:
        raise ConfigError(
            "db",
            f"unsupported database {url.split(':', 1)[0]!r}; "
            "use a SQLite path or a postgresql:// URL",
        )
    if not check_schema:
        return engine
    try:
        schema.prepare(engine)
    except schema.SchemaError:
        raise
    except Exception as exc:  # driver errors differ per backend; name the database
        raise ConfigError(
            "db",
            f"cannot open {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}",
        ) from None
    return engine
