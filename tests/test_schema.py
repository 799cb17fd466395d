"""Schema migrations: a database made by an older Vitrina upgrades without losing data."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from pim import Catalogue, schema
from pim.cli import app
from pim.db import database_url, make_engine

runner = CliRunner()
# Downgrading on SQLite rebuilds the table; SQLAlchemy warns it can't reflect the expression index
# (the migration recreates it, and the last test checks it is there).
pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")


def test_head_is_the_newest_migration() -> None:
    assert schema.script_head() == schema.HEAD


def _columns(url: str) -> dict[str, set[str]]:
    """Each table's columns and index names."""
    engine = make_engine(database_url(url), check_schema=False)
    with engine.connect() as conn:
        tables = inspect(conn)
        found = {t: {c["name"] for c in tables.get_columns(t)} for t in tables.get_table_names()}
        if conn.dialect.name == "sqlite":  # SQLAlchemy does not reflect expression indexes
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'product'"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE tablename = 'product'"
        found["product indexes"] = {
            n
            for n in conn.execute(text(query)).scalars()
            if not n.startswith("sqlite_") and not n.endswith("_pkey")
        }
    engine.dispose()
    return found


def _snapshot(cat: Catalogue) -> dict[str, object]:
    return {
        "structure": cat.structure.model_dump(mode="json"),
        "records": [
            (r.sku, r.kind, r.family, r.parent, r.enabled, r.categories, r.values)
            for kind in ("model", "product")
            for r in cat.records(kind)
        ],
        "summary": cat.summary(),
    }


def _make_old(url: str) -> None:
    """Turn the database into one from before migrations: schema 0001, no version table."""
    engine = make_engine(database_url(url), check_schema=False)
    with engine.begin() as conn:
        command.downgrade(schema._config(conn), schema.FIRST)
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()


def test_an_old_database_is_refused_then_upgraded_without_loss(
    db_url: str, media_root: Path, example_dir: Path
) -> None:
    with Catalogue.open(db_url, media=media_root) as cat:
        cat.import_path(example_dir)
        before = _snapshot(cat)
    _make_old(db_url)
    assert "groups" not in _columns(db_url)["product"]
    with pytest.raises(schema.SchemaError, match="vitrina db upgrade"):
        Catalogue.open(db_url, media=media_root)
    result = runner.invoke(app, ["--db", db_url, "db", "upgrade"])
    assert result.exit_code == 0, result.stderr
    assert f"from schema revision 0001 to {schema.HEAD}" in result.stdout
    with Catalogue.open(db_url, media=media_root) as cat:
        assert _snapshot(cat) == before
        record = cat.product("KT-K10")
        assert record.groups == [] and record.associations == {} and record.family_variant is None
        view = cat.resolve("KT-K10", "ecommerce", "de_DE")
        assert view.price is not None and view.name == "Wasserkocher 1.0 l"
    again = runner.invoke(app, ["--db", db_url, "db", "upgrade"])
    assert again.exit_code == 0 and "up to date" in again.stdout


def test_migrations_give_the_tables_a_new_database_gets(db_url: str, tmp_path: Path) -> None:
    fresh = str(tmp_path / "fresh.db")
    Catalogue.open(fresh, media=tmp_path / "media").close()
    Catalogue.open(db_url, media=tmp_path / "media").close()
    _make_old(db_url)
    engine = make_engine(database_url(db_url), check_schema=False)
    schema.upgrade(engine)
    engine.dispose()
    assert _columns(db_url) == _columns(fresh)
