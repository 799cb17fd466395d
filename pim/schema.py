"""The database schema's version: create it, check it, upgrade it (Alembic migrations).

A new database gets the current tables and is stamped with the newest revision. A database
made by an older version of Vitrina is refused with a :class:`SchemaError` until
``vitrina db upgrade`` (:func:`upgrade`) has migrated it; databases from before migrations
existed are revision ``0001``. Opening a database reads its revision with plain SQL; Alembic
is imported only to stamp or migrate.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from pim import model  # noqa: F401  (registers the tables)
from pim.errors import VitrinaError

if TYPE_CHECKING:
    from alembic.config import Config

FIRST = "0001"
"""The revision of databases created before Vitrina had migrations."""
HEAD = "0007"
"""The newest revision (``pim/migrations/versions``), the one this version works with."""
MIGRATIONS = Path(str(resources.files("pim"))) / "migrations"


class SchemaError(VitrinaError):
    """The database's schema is older (or newer) than this version of Vitrina."""

    exit_code = 2


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def script_head() -> str | None:
    """The newest revision among the migration scripts (a test keeps :data:`HEAD` equal)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current(connection: Connection) -> str | None:
    """The database's revision; None for an empty database."""
    tables = inspect(connection)
    if tables.has_table("alembic_version"):
        stamped = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if stamped is not None:
            return str(stamped)
    return FIRST if tables.has_table("product") else None


def _create(conn: Connection) -> None:
    from alembic import command

    SQLModel.metadata.create_all(conn)
    command.stamp(_config(conn), "head")


def prepare(engine: Engine) -> None:
    """Create the tables of an empty database; refuse one whose schema is not the newest."""
    with engine.begin() as conn:
        revision = current(conn)
        if revision is None:
            _create(conn)
            return
    if revision != HEAD:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaError(
            f"{where}: the database has schema revision {revision}, this version of Vitrina "
            f"works with {HEAD}; back it up, then run `vitrina db upgrade`"
        )


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate the database to the newest revision; returns (revision before, after)."""
    from alembic import command

    with engine.begin() as conn:
        before = current(conn)
        if before is None:
            _create(conn)
        else:
            cfg = _config(conn)
            if not inspect(conn).has_table("alembic_version"):
                command.stamp(cfg, FIRST)
            command.upgrade(cfg, "head")
    return before, HEAD
