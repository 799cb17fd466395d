"""Shared fixtures: catalogues on SQLite and PostgreSQL, and the example catalogue."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import SQLModel, create_engine, text

from pim import Catalogue
from pim.db import database_url

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "catalogue"
FIXTURES = Path(__file__).parent / "fixtures"
PG_SERVER = os.environ.get("VITRINA_TEST_DATABASE_URL")
# Each test session works in its own schema, so two runs on one server never collide.
PG_SCHEMA = f"vitrina_test_{os.getpid()}"
PG_URL = f"{PG_SERVER}?options=-csearch_path%3D{PG_SCHEMA}" if PG_SERVER else None

sys.path.insert(0, str(ROOT / "examples"))
import make_images  # noqa: E402
from helpers import add_hostile_product  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On CI, PostgreSQL tests must run: a missing server is a failure, not a skip."""
    if os.environ.get("CI") and not PG_URL:
        raise pytest.UsageError(
            "CI is set but VITRINA_TEST_DATABASE_URL is not: the "
            "PostgreSQL half of the suite would be skipped"
        )


@pytest.fixture(scope="session", autouse=True)
def postgresql_schema() -> Iterator[None]:
    """Create this session's schema on the test server, and drop it at the end."""
    if not PG_SERVER:
        yield
        return
    engine = create_engine(database_url(PG_SERVER))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}"))
    yield
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "catalogue.db")
    if not PG_URL:
        pytest.skip("VITRINA_TEST_DATABASE_URL is not set")
    engine = create_engine(database_url(PG_URL))
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return PG_URL


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One media store for the session: it is content-addressed, so tests can share it."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture
def catalogue(db_url: str, media_root: Path) -> Iterator[Catalogue]:
    """An empty catalogue on each backend."""
    cat = Catalogue.open(db_url, media=media_root)
    yield cat
    cat.close()


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example catalogue with its images drawn."""
    target = tmp_path_factory.mktemp("example") / "catalogue"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("images", "manuals"))
    make_images.main(target)
    return target


@pytest.fixture(scope="session")
def hostile_example_dir(tmp_path_factory: pytest.TempPathFactory, example_dir: Path) -> Path:
    """The example catalogue plus product ZZ-HOSTILE, whose name tries to break out."""
    target = tmp_path_factory.mktemp("hostile") / "catalogue"
    shutil.copytree(example_dir, target)
    add_hostile_product(target)
    return target


@pytest.fixture
def example(catalogue: Catalogue, example_dir: Path) -> Catalogue:
    """The example catalogue, imported, on each backend."""
    catalogue.import_path(example_dir)
    return catalogue


@pytest.fixture
def structure_file(example_dir: Path) -> Path:
    """The example's structure file."""
    return example_dir / "structure.yaml"


@pytest.fixture
def workdir(tmp_path: Path, example_dir: Path) -> Path:
    """A folder for test input files, holding a copy of the example images."""
    folder = tmp_path / "input"
    shutil.copytree(example_dir / "images", folder / "images")
    return folder


WINTER_CONFIG = """\
[publish]
out = "site"

[campaigns.winter]
start = 2026-11-20
end = 2099-01-06
"""
"""A configuration with campaign ``winter`` (open-ended enough for codes checked today)."""


@pytest.fixture
def winter_cli(
    db_url: str,
    example_dir: Path,
    media_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """The command line's global options for the example catalogue, run in ``tmp_path``
    with :data:`WINTER_CONFIG` as ``vitrina.toml``."""
    from typer.testing import CliRunner

    from pim.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "vitrina.toml").write_text(WINTER_CONFIG, encoding="utf-8")
    options = ["--db", db_url, "--media", str(media_root)]
    result = CliRunner().invoke(app, [*options, "--quiet", "import", str(example_dir)])
    assert result.exit_code == 0, result.stderr
    return options
