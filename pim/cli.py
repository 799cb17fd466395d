"""``vitrina``: the command line. Errors Vitrina raises on purpose print without a traceback."""

from __future__ import annotations

import itertools
import json
import os
import runpy
import shutil
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pim.audit import audit
from pim.catalogue import Catalogue, CompletenessReport, import_order
from pim.channels.base import Publication
from pim.config import CONFIG_FILE, Config, load_config, write_starter
from pim.errors import CatalogueImportError, ConfigError, Problem, VitrinaError
from pim.importer import ImportReport
from pim.links import PersonalCode
from pim.publishing import CAMPAIGNS, publish
from pim.registry import channel_names, load_channel
from pim.translation_status import translation_status

if TYPE_CHECKING:
    from pim.campaigns import CodeCheck

app = typer.Typer(
    help="Vitrina: one product catalogue, published consistently to every channel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Catalogue text and messages quoting it may hold "[…]": never read as rich markup.
out = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)


class State:
    """Options shared by every command."""

    db: str | None = None
    media: str | None = None
    config: Path | None = None
    quiet: bool = False


state = State()


@app.callback()
def _main(
    db: Annotated[
        str | None, typer.Option("--db", envvar="VITRINA_DB", help="SQLite file or PostgreSQL URL.")
    ] = None,
    media: Annotated[
        str | None, typer.Option("--media", envvar="VITRINA_MEDIA", help="Media store folder.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help=f"Configuration file (default ./{CONFIG_FILE}).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    state.db, state.media, state.config, state.quiet = db, media, config, quiet


def open_catalogue() -> Catalogue:
    """The catalogue named by --db, $VITRINA_DB or vitrina.toml."""
    cfg = load_config(state.config)
    return Catalogue.open(
        state.db or cfg.db, media=state.media or cfg.media, fallbacks=cfg.fallbacks
    )


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on a terminal (nothing with --quiet or when piped)."""
    disabled = state.quiet or not err.is_terminal
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[records]} records"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=disabled,
    ) as bar:
        task = bar.add_task(label, total=total, records=0)

        def update(done: int, records: int) -> None:
            bar.update(task, completed=done, records=records)

        yield update


def _fail(exc: VitrinaError, as_json: bool = False) -> None:
    if as_json:
        problems = (
            [asdict(p) for p in exc.problems]
            if isinstance(exc, CatalogueImportError)
            else [{"message": str(exc)}]
        )
        out.print_json(json.dumps({"ok": False, "errors": problems}, ensure_ascii=False))
    elif isinstance(exc, CatalogueImportError):
        for problem in exc.problems:
            err.print(f"[red]error:[/] {escape(str(problem))}", markup=True, highlight=False)
        count = len(exc.problems)
        err.print(
            f"[red]{count} problem{'s' if count > 1 else ''}; nothing was imported.[/]", markup=True
        )
    else:
        err.print(f"[red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
    raise typer.Exit(exc.exit_code)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
) -> None:
    """Create a project: a commented vitrina.toml and an empty catalogue database."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / CONFIG_FILE
        wrote = write_starter(config)
        cfg = load_config(config)
        with Catalogue.open(state.db or cfg.db, media=state.media or cfg.media) as cat:
            url = cat.engine.url.render_as_string(hide_password=True)
    except VitrinaError as exc:
        _fail(exc)
    if not state.quiet:
        out.print(f"{'Wrote' if wrote else 'Kept'} {config}")
        out.print(f"Catalogue database: {url}")
        out.print("Next: vitrina import STRUCTURE.yaml PRODUCTS.csv")


@app.command("import")
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Structure (.yaml/.json) and product (.csv/.jsonl) files, or folders of them; "
            "with --from akeneo, Akeneo export folders."
        ),
    ],
    source: Annotated[
        str,
        typer.Option(
            "--from", help="vitrina (its own files) or akeneo (a folder of Akeneo CSV exports)."
        ),
    ] = "vitrina",
    strict: Annotated[
        bool, typer.Option("--strict", help="With --from akeneo: a missing media file is an error.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Import files, each in one transaction (an Akeneo folder in one): on any problem nothing
    of it is written."""
    if source not in ("vitrina", "akeneo"):
        _fail(ConfigError("--from", f"expected vitrina or akeneo, got {source!r}"), as_json)
    if source == "akeneo":
        _import_akeneo(paths, strict, dry_run, as_json)
        return
    reports: list[ImportReport] = []
    try:
        files = [f for p in paths for f in import_order(p)]
        with open_catalogue() as cat:
            for file in files:
                with progress_bar(f"Importing {file.name}", file.stat().st_size) as update:
                    reports.append(cat.import_file(file, dry_run=dry_run, progress=update))
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(
            json.dumps(
                {"ok": True, "reports": [asdict(r) for r in reports]},
                default=str,
                ensure_ascii=False,
            )
        )
    elif not state.quiet:
        verb = "would import" if dry_run else "imported"
        for r in reports:
            if r.kind == "structure":
                parts = ", ".join(f"{n} {k}" for k, n in r.sections.items() if n)
                out.print(f"{r.file}: {verb} structure ({parts or 'no items'})")
            else:
                out.print(
                    f"{r.file}: {verb} {r.created} new, {r.updated} updated"
                    + (f", {r.media} media files" if r.media else "")
                )
            _print_warnings(r.warnings)


def _print_warnings(warnings: list[Problem], shown: int = 5) -> None:
    """Warnings grouped by kind, the first few of each."""
    kinds: dict[str, list[Problem]] = {}
    for w in warnings:
        kinds.setdefault(w.kind or "other", []).append(w)
    for kind, items in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        err.print(
            f"[yellow]warning:[/] {len(items)} × {escape(kind)}", markup=True, highlight=False
        )
        for w in items[:shown]:
            err.print(f"  {w}", highlight=False)
        if len(items) > shown:
            err.print(f"  … and {len(items) - shown} more", highlight=False)


def _import_akeneo(paths: list[Path], strict: bool, dry_run: bool, as_json: bool) -> None:
    from pim.akeneo import import_akeneo

    reports = []
    try:
        with open_catalogue() as cat:
            for folder in paths:
                with progress_bar(f"Importing {folder.name}", None) as update:
                    reports.append(
                        import_akeneo(cat, folder, strict=strict, dry_run=dry_run, progress=update)
                    )
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        data = [
            {
                **asdict(r),
                "warnings": {k: [asdict(w) for w in ws] for k, ws in r.warnings_by_kind().items()},
            }
            for r in reports
        ]
        out.print_json(json.dumps({"ok": True, "reports": data}, default=str, ensure_ascii=False))
        return
    if state.quiet:
        return
    for r in reports:
        verb = "Would import" if dry_run else "Imported"
        out.print(f"{verb} {r.folder} (Akeneo export)")
        table = Table(show_header=False, title_justify="left")
        for key, value in r.counts.items():
            table.add_row(key.replace("_", " "), str(value))
        out.print(table)
        roles = ", ".join(
            f"{k}={'/'.join(v) if isinstance(v, tuple | list) else v}"
            for k, v in r.roles.items()
            if v
        )
        out.print(f"Roles: {roles}")
        if r.completeness:
            done = Table(
                "channel", "locale", "complete", title="Completeness", title_justify="left"
            )
            for c in r.completeness:
                done.add_row(c["channel"], c["locale"], f"{c['complete']} / {c['total']}")
            out.print(done)
        _print_warnings(r.warnings)


@app.command()
def export(
    directory: Annotated[Path, typer.Argument(help="Folder to write into.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv (Akeneo-style) or jsonl (Akeneo REST documents).")
    ] = "csv",
    to: Annotated[
        str,
        typer.Option("--to", help="vitrina (its own files) or akeneo (Akeneo's CSV export files)."),
    ] = "vitrina",
) -> None:
    """Export the catalogue in the formats it imports (structure, models, products, media)."""
    try:
        if to not in ("vitrina", "akeneo"):
            raise ConfigError("--to", f"expected vitrina or akeneo, got {to!r}")
        with open_catalogue() as cat:
            if to == "akeneo":
                from pim.akeneo import export_akeneo

                files = export_akeneo(cat, directory).files
            else:
                files = cat.export(directory, fmt).files
    except VitrinaError as exc:
        _fail(exc)
    if not state.quiet:
        for name, count in files.items():
            out.print(f"{directory / name}: {count}")


@app.command("revisions")
def revisions_(
    folder: Annotated[
        Path | None, typer.Option("--out", help="Only the publications into this folder.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    keep: Annotated[
        int | None,
        typer.Option(
            "--keep",
            help="Forget all but the newest KEEP publications of each folder (of --out only, "
            "when given) first, with what they recorded; the one a folder holds stays.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The recorded publications, newest first."""
    from pim import revisions

    try:
        with open_catalogue() as cat:
            if keep is not None:
                forgotten = revisions.prune(cat.engine, keep, folder)
                if not state.quiet and not as_json:
                    plural = "" if len(forgotten) == 1 else "s"
                    out.print(f"Forgot {len(forgotten)} publication{plural}.")
            found = revisions.revisions(cat.engine, folder, limit)
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(json.dumps([asdict(r) for r in found], default=str))
        return
    columns = ["revision", "published", "moment", *([] if folder else ["out"]), "channels"]
    table = Table(*columns, "files", "skipped")
    for r in found:
        table.add_row(
            r.revision,
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            r.moment.isoformat(timespec="minutes"),
            *([] if folder else [r.out]),
            ", ".join(r.channels),
            str(r.artifacts),
            str(r.skipped),
        )
    out.print(table if found else "No publication recorded yet.")


@app.command("diff")
def diff_(
    before: Annotated[str, typer.Argument(help="A revision (id, prefix, latest, latest~1).")],
    after: Annotated[str, typer.Argument(help="The revision to compare it with.")] = "latest",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Which products changed between two publications, on which channels, and how."""
    from pim import revisions

    try:
        with open_catalogue() as cat:
            a = revisions.find(cat.engine, before)
            b = revisions.find(cat.engine, after)
            changes = revisions.diff(cat.engine, a.revision, b.revision)
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "before": a.revision,
                    "after": b.revision,
                    "changes": [asdict(c) for c in changes],
                },
                ensure_ascii=False,
            )
        )
        return
    out.print(f"{a.revision} → {b.revision}: {len(changes)} product changes")
    table = Table("channel", "locale", "SKU", "change", "field", "before", "after")
    for c in changes:
        where = c.channel + (f" ({c.audience})" if c.audience else "")
        if not c.fields:
            table.add_row(where, c.locale, c.sku, c.kind, "", "", "")
        for name, (old, new) in c.fields.items():
            table.add_row(where, c.locale, c.sku, c.kind, name, str(old), str(new))
    if changes:
        out.print(table)


db_app = typer.Typer(help="The catalogue database: its schema version and migrations.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to this version's schema (back it up first)."""
    from pim import schema
    from pim.db import database_url, make_engine

    try:
        cfg = load_config(state.config)
        engine = make_engine(database_url(state.db or cfg.db), check_schema=False)
        before, after = schema.upgrade(engine)
        engine.dispose()
    except VitrinaError as exc:
        _fail(exc)
    if not state.quiet:
        if before == after:
            out.print(f"The database is up to date (schema revision {after}).")
        elif before is None:
            out.print(f"Created an empty catalogue (schema revision {after}).")
        else:
            out.print(f"Upgraded the database from schema revision {before} to {after}.")


@db_app.command("revision")
def db_revision() -> None:
    """Print the database's schema revision and the one this version works with."""
    from pim import schema
    from pim.db import database_url, make_engine

    try:
        cfg = load_config(state.config)
        engine = make_engine(database_url(state.db or cfg.db), check_schema=False)
        with engine.connect() as conn:
            current = schema.current(conn)
        engine.dispose()
    except VitrinaError as exc:
        _fail(exc)
    out.print(f"database: {current or 'empty'}; this version of Vitrina: {schema.HEAD}")


def _moment(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return datetime.fromisoformat(at)
    except ValueError:
        raise ConfigError(
            "--at", f"expected a date or date-time like 2026-12-01T09:00+01:00, got {at!r}"
        ) from None


@app.command()
def show(
    sku: Annotated[str, typer.Argument(help="The product's SKU.")],
    channel: Annotated[str, typer.Option("--channel", "-c", help="Catalogue channel.")],
    locale: Annotated[str, typer.Option("--locale", "-l", help="Locale, e.g. de_DE.")],
    audience: Annotated[str | None, typer.Option(help="customer, technician, seller…")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Moment (ISO date-time); default now.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the view as JSON.")] = False,
) -> None:
    """Show one product resolved for a channel, locale and audience."""
    try:
        with open_catalogue() as cat:
            view = cat.resolve(sku, channel, locale, audience, _moment(at))
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(json.dumps(view.to_dict(), ensure_ascii=False))
        return
    table = Table(
        title=f"{view.sku} · {view.channel} · {view.locale} · {view.audience}",
        show_header=False,
        title_justify="left",
    )
    table.add_column(style="bold")
    table.add_column()
    price = view.price.formatted if view.price else "—"
    if view.sale:
        price += f"  →  {view.sale.price.formatted} ({view.sale.validity})"
    rows: list[tuple[str, str | Text]] = [
        ("Name", view.name),
        ("Slug", view.slug),
        ("Family", view.family_label or "—"),
        ("Variant of", view.group or "—"),
        ("Axes", ", ".join(f"{a.label}: {a.formatted}" for a in view.axes) or "—"),
        ("Price", price),
        ("Availability", view.availability.label if view.availability else "—"),
        ("Categories", "; ".join(c.text() for c in view.categories) or "—"),
        ("Images", str(len(view.images))),
        ("Description", view.description_text),
    ]
    rows += [
        (
            a.label,
            Text(a.formatted)
            + Text(
                f"  ({a.source_locale})"
                if a.source_locale and a.source_locale != view.locale
                else "",
                style="dim",
            ),
        )
        for a in view.attributes
    ]
    rows.append(("Complete", "yes" if view.complete else f"no, missing {', '.join(view.missing)}"))
    if view.fallbacks:
        rows.append(("Fallbacks", ", ".join(f"{k} from {v}" for k, v in view.fallbacks.items())))
    for label, value in rows:
        table.add_row(label, value)
    out.print(table)


def _completeness_table(reports: list[CompletenessReport]) -> Table:
    table = Table(title="Completeness", title_justify="left")
    for col in ("channel", "locale", "products", "complete", "%", "with fallbacks"):
        table.add_column(col, justify="right" if col not in ("channel", "locale") else "left")
    for r in reports:
        table.add_row(
            r.channel, r.locale, str(r.total), str(r.complete), f"{r.ratio:.0%}", str(r.fallbacks)
        )
    return table


@app.command()
def completeness(
    channel: Annotated[str | None, typer.Option("--channel", "-c")] = None,
    locale: Annotated[str | None, typer.Option("--locale", "-l")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    details: Annotated[
        bool, typer.Option("--details", help="List every incomplete product.")
    ] = False,
) -> None:
    """Which products are complete (required attributes present) per channel and locale."""
    try:
        with open_catalogue() as cat:
            reports = cat.completeness(channel, locale)
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(json.dumps([{**asdict(r), "ratio": r.ratio} for r in reports]))
        return
    out.print(_completeness_table(reports))
    shown = 0
    for r in reports:
        for sku, missing in r.incomplete:
            if details or shown < 10:
                out.print(
                    f"  incomplete: {r.channel}/{r.locale} {sku}: missing {', '.join(missing)}",
                    highlight=False,
                )
            shown += 1
    if shown > 10 and not details:
        out.print(f"  … {shown - 10} more (--details lists them all)")


@app.command()
def summary(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts of products, models, attributes, families, categories, channels, media."""
    try:
        with open_catalogue() as cat:
            counts = cat.summary()
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(json.dumps(counts))
        return
    table = Table(title="Catalogue", show_header=False, title_justify="left")
    for key, value in counts.items():
        table.add_row(key, str(value))
    out.print(table)


@app.command()
def demo(
    source: Annotated[Path, typer.Option(help="Example catalogue folder.")] = Path(
        "examples/catalogue"
    ),
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out"),
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1)] = None,
) -> None:
    """Load the example catalogue into a fresh database under OUT and publish every channel."""
    start = time.perf_counter()
    try:
        if not source.is_dir():
            raise ConfigError(
                "--source",
                f"no example catalogue at {source}; run from a "
                "checkout of Vitrina or pass --source",
            )
        images = source / "images"
        script = source.parent / "make_images.py"
        if not (images.is_dir() and (source / "manuals").is_dir()) and script.is_file():
            runpy.run_path(str(script), run_name="vitrina_demo")["main"](source)
        out_dir.mkdir(parents=True, exist_ok=True)
        db = out_dir / "catalogue.db"
        for stale in (db, out_dir / "catalogue.db-wal", out_dir / "catalogue.db-shm"):
            stale.unlink(missing_ok=True)
        shutil.rmtree(out_dir / "catalogue.media", ignore_errors=True)
        cfg = load_config(state.config)
        with Catalogue.open(db, fallbacks=cfg.fallbacks) as cat:
            for file in import_order(source):
                with progress_bar(f"Importing {file.name}", file.stat().st_size) as update:
                    cat.import_file(file, progress=update)
            counts = cat.summary()
            reports = cat.completeness()
            manifest = _publish(cat, cfg, None, None, out_dir, jobs, None, None, [], 0.0)
    except VitrinaError as exc:
        _fail(exc)
    if state.quiet:
        return
    table = Table(title=f"Example catalogue in {db}", show_header=False, title_justify="left")
    for key, value in counts.items():
        table.add_row(key, str(value))
    out.print(table)
    out.print(_completeness_table(reports))
    _report(manifest, out_dir, time.perf_counter() - start)
    out.print(f"Try: vitrina --db {db} show HP-ECHO-RED --channel ecommerce --locale bg_BG")


def _option_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _channel_options(cfg: Config, pairs: list[str]) -> dict[str, dict[str, Any]]:
    options = {name: dict(values) for name, values in cfg.channel_options.items()}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        channel, dot, field = key.strip().partition(".")
        if not sep or not dot or not field:
            raise ConfigError("--option", f"expected CHANNEL.OPTION=VALUE, got {pair!r}")
        options.setdefault(channel, {})[field] = _option_value(value.strip())
    return options


def _publish(
    cat: Catalogue,
    cfg: Config,
    channels: list[str] | None,
    locales: list[str] | None,
    out_dir: Path,
    jobs: int | None,
    campaign: str | None,
    at: str | None,
    option_pairs: list[str],
    wait: float,
    full: bool = False,
    personalised: bool = False,
) -> dict[str, Any]:
    moment = _moment(at) or datetime.now(UTC)
    recipients: tuple[PersonalCode, ...] = ()
    if personalised:
        from pim.campaigns import personal_codes

        if not campaign:
            raise ConfigError("--personalised", "needs --campaign NAME")
        recipients = personal_codes(cat.engine, campaign)
        if not recipients:
            raise ConfigError(
                "--personalised",
                f"campaign {campaign!r} has no recipients' codes; create them with "
                f"`vitrina campaign codes {campaign} --recipients FILE`",
            )
    context = Publication(
        moment=moment if moment.tzinfo else moment.replace(tzinfo=UTC),
        base_url=cfg.publish.base_url,
        landing_url=cfg.publish.landing_url,
        campaign=cfg.campaign(campaign) if campaign else None,
        theme=cfg.theme,
        recipients=recipients,
    )
    with Progress(
        TextColumn("Publishing"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[job]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=state.quiet or not err.is_terminal,
    ) as bar:
        task = bar.add_task("publish", total=None, job="")

        def update(done: int, total: int, job: str) -> None:
            bar.update(task, completed=done, total=total, job=job)

        options = _channel_options(cfg, option_pairs)
        try:
            return publish(
                cat,
                channels or cfg.publish.channels,
                locales or cfg.publish.locales,
                out_dir,
                context,
                jobs=jobs or cfg.publish.jobs,
                options=options,
                progress=update,
                wait=wait,
                full=full,
            )
        except ConfigError as exc:
            from_cli = {"channels." + p.partition("=")[0].strip() for p in option_pairs}
            if exc.key in from_cli:
                raise ConfigError(
                    "--option " + exc.key.removeprefix("channels."), exc.message
                ) from None
            if exc.file or not cfg.path or not exc.key.startswith("channels."):
                raise
            raise ConfigError(exc.key, exc.message, str(cfg.path)) from None


def _configuration(name: str | None) -> list[str]:
    """The ``-o`` pairs of ``--configuration NAME``."""
    from pim.channels.pdf import CONFIGURATIONS

    if name is None:
        return []
    if name not in CONFIGURATIONS:
        raise ConfigError(
            "--configuration", f"unknown {name!r}; use one of {', '.join(CONFIGURATIONS)}"
        )
    return [f"pdf.{key}={json.dumps(value)}" for key, value in CONFIGURATIONS[name].items()]


def _report(manifest: dict[str, Any], out_dir: Path, seconds: float) -> None:
    table = Table(
        title=f"Published into {out_dir} (revision {manifest['revision']})", title_justify="left"
    )
    for col in ("channel", "locale", "files", "KiB", "products", "skipped"):
        table.add_column(col, justify="left" if col in ("channel", "locale") else "right")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in manifest["artifacts"]:
        groups.setdefault((a["channel"], a["locale"] or "*"), []).append(a)
    skipped: dict[tuple[str, str], int] = {}
    for sk in manifest["skipped"]:
        skipped[(sk["channel"], sk["locale"])] = skipped.get((sk["channel"], sk["locale"]), 0) + 1
    for (channel, locale), arts in sorted(groups.items()):
        skus = {s for a in arts for s in a["skus"]}
        table.add_row(
            channel,
            locale,
            str(len(arts)),
            f"{sum(a['bytes'] for a in arts) / 1024:,.0f}",
            str(len(skus)),
            str(skipped.get((channel, locale), 0)),
        )
    out.print(table)
    for sk in manifest["skipped"][:5]:
        out.print(
            f"  skipped {sk['channel']}/{sk['locale']} {sk['sku']}: {sk['reason']}", highlight=False
        )
    if len(manifest["skipped"]) > 5:
        out.print(f"  … {len(manifest['skipped']) - 5} more skipped (see manifest.json)")
    warnings = manifest.get("warnings", [])
    for w in warnings[:5]:
        out.print(
            f"  warning {w['channel']}/{w['locale']} {w['sku']} {w['field']}: {w['message']}",
            highlight=False,
        )
    if len(warnings) > 5:
        out.print(f"  … {len(warnings) - 5} more warnings (see manifest.json)")
    first = _start_page(manifest, out_dir)
    out.print(f"Done in {seconds:.1f} s." + (f" Open first: {first}" if first else ""))


def _start_page(manifest: dict[str, Any], out_dir: Path) -> Path | None:
    """The first file to open: the start page of the channel ranked first."""
    candidates = []
    for name, info in manifest["channels"].items():
        try:
            cls = load_channel(name)
        except VitrinaError:
            continue
        if cls.start_page and info["locales"]:
            candidates.append((cls.start_rank, name, info["locales"][0], cls.start_page))
    if not candidates:
        return None
    _, name, locale, page = min(candidates)
    return out_dir / str(name) / str(locale) / str(page)


def scheduled_folder(out: Path, moment: datetime) -> Path:
    """Where a publication for a future moment goes unless --out says: beside the live one,
    named after the moment (``out-at-20261208T0800Z``)."""
    return out.with_name(f"{out.name}-at-{moment.astimezone(UTC):%Y%m%dT%H%MZ}")


@app.command("publish")
def publish_(
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", "-c", help="Channel to publish (repeatable); default: all."),
    ] = None,
    locale: Annotated[
        list[str] | None,
        typer.Option("--locale", "-l", help="Locale (repeatable); default: the channel's."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: publish.out, else ./out).")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: cores).")
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Campaign from vitrina.toml.")] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Publication moment (ISO date-time); default now. A future moment publishes "
            "into OUT-at-<moment> unless --out is given.",
        ),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Channel option, CHANNEL.OPTION=VALUE (repeatable)."),
    ] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for another publication into the same folder.")
    ] = 0.0,
    configuration: Annotated[
        str | None,
        typer.Option(
            "--configuration",
            help="Print one PDF edition only: catalogue, leaflet, labels or datasheets.",
        ),
    ] = None,
    personalised: Annotated[
        bool,
        typer.Option(
            "--personalised",
            help="With --campaign: one leaflet per recipient with their name and code "
            "(`vitrina campaign codes`).",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Render every product again (default: products unchanged since the last "
            "publication into OUT keep their files).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest.")] = False,
) -> None:
    """Publish channels into OUT: atomically, with a manifest of every file; again into the
    same OUT, only what changed is rendered."""
    start = time.perf_counter()
    try:
        cfg = load_config(state.config)
        target = out_dir or Path(cfg.publish.out)
        moment = _moment(at)
        if moment is not None and out_dir is None:
            aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            if aware > datetime.now(UTC):
                target = scheduled_folder(target, aware)
                if not state.quiet and not as_json:
                    err.print(
                        f"--at is in the future: publishing into {target}; the live "
                        f"{cfg.publish.out} stays as it is (pass --out to choose the folder)",
                        highlight=False,
                    )
        with open_catalogue() as cat:
            manifest = _publish(
                cat,
                cfg,
                channel,
                locale,
                target,
                jobs,
                campaign,
                at,
                [*_configuration(configuration), *(option or [])],
                wait,
                full,
                personalised,
            )
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(json.dumps(manifest, ensure_ascii=False, default=list))
    elif not state.quiet:
        _report(manifest, target, time.perf_counter() - start)


@app.command("audit")
def audit_(
    folder: Annotated[Path, typer.Argument(help="A publication folder (with manifest.json).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check that every channel of a publication says the same; exit 1 on disagreement."""
    from pim.audit import pdf_support

    try:
        found = audit(folder)
    except VitrinaError as exc:
        _fail(exc, as_json)
    unread = pdf_support()
    if unread and (folder / "pdf").is_dir():
        err.print(f"warning: {unread}", highlight=False)
    if as_json:
        out.print_json(json.dumps([asdict(d) for d in found]))
    elif not found:
        out.print(f"{folder}: every channel agrees.")
    else:
        table = Table("SKU", "locale", "field", "channel", "value", "expected")
        for d in found:
            table.add_row(d.sku, d.locale, d.field, d.channel, d.value, d.expected)
        out.print(table)
        out.print(f"{len(found)} disagreements")
    if found:
        raise typer.Exit(1)


campaign_app = typer.Typer(help="Campaigns: personalised discount codes, checked and redeemed.")
app.add_typer(campaign_app, name="campaign")


@campaign_app.command("codes")
def campaign_codes(
    name: Annotated[str, typer.Argument(help="A campaign of vitrina.toml ([campaigns.NAME]).")],
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Codes for nobody in particular.")
    ] = None,
    recipients: Annotated[
        Path | None,
        typer.Option(
            "--recipients", help="CSV of recipients: name;language;segment (segment optional)."
        ),
    ] = None,
) -> None:
    """Create unique personalised codes for a campaign, valid for its window."""
    from pim import campaigns

    try:
        cfg = load_config(state.config)
        campaign = cfg.campaign(name)
        if (count is None) == (recipients is None):
            raise ConfigError("--count/--recipients", "give one of them")
        with open_catalogue() as cat:
            people = (
                campaigns.read_recipients(recipients, list(cat.structure.locales))
                if recipients
                else []
            )
            made = campaigns.create_codes(cat.engine, campaign, people, count or 0)
    except VitrinaError as exc:
        _fail(exc)
    if not state.quiet:
        window = f"{campaign.start or '…'} to {campaign.end or '…'}"
        out.print(
            f"Created {len(made)} codes for campaign {name} (valid {window}); publish the "
            f"web channel to write {CAMPAIGNS}/{name}/codes.csv.",
            highlight=False,
        )
        table = Table("code", "language", "segment")
        for c in made[:10]:
            table.add_row(c.display, c.language or "", c.segment or "")
        out.print(table)
        if len(made) > 10:
            out.print(f"… and {len(made) - 10} more")


def _print_check(check: CodeCheck) -> None:
    from pim.campaigns import display

    code = display(check.code)
    if check.valid:
        until = f" until {check.valid_until}" if check.valid_until else ""
        out.print(f"{code}: valid, campaign {check.campaign}{until}", highlight=False)
    else:
        out.print(f"{code}: not valid: {check.reason}", highlight=False)


@campaign_app.command("check")
def campaign_check(
    code: Annotated[str, typer.Argument(help="A code, with or without hyphens.")],
) -> None:
    """Whether a code can be redeemed today (exit 1 if not)."""
    from pim import campaigns

    try:
        with open_catalogue() as cat:
            found = campaigns.check_code(cat.engine, code)
    except VitrinaError as exc:
        _fail(exc)
    _print_check(found)
    if not found.valid:
        raise typer.Exit(1)


@campaign_app.command("redeem")
def campaign_redeem(
    code: Annotated[str, typer.Argument(help="A code, with or without hyphens.")],
    by: Annotated[str | None, typer.Option("--by", help="Where: a till, an order number.")] = None,
) -> None:
    """Redeem a code once; a second redemption is refused."""
    from pim import campaigns

    try:
        with open_catalogue() as cat:
            done = campaigns.mark_used(cat.engine, code, by)
    except VitrinaError as exc:
        _fail(exc)
    redeemed = campaigns.display(done.code)
    out.print(f"{redeemed}: redeemed (campaign {done.campaign})", highlight=False)


translations_app = typer.Typer(help="Translations of the catalogue and of Vitrina's own strings.")
app.add_typer(translations_app, name="translations")


@translations_app.command("status")
def translations_status(
    locale: Annotated[list[str] | None, typer.Option("--locale", "-l")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per locale: catalogue values and labels not translated, interface strings missing."""
    try:
        with open_catalogue() as cat:
            structure = cat.structure
            unknown = [loc for loc in locale or () if loc not in structure.locales]
            if unknown:
                raise ConfigError(
                    "locale",
                    f"unknown locale {unknown[0]!r}; known: {', '.join(structure.locales)}",
                )
            records = itertools.chain(cat.records("model"), cat.records("product"))
            statuses = translation_status(structure, records, locale)
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(json.dumps([{**asdict(s), "complete": s.complete} for s in statuses]))
        return
    table = Table("locale", "interface", "UI strings missing", "values missing", "labels missing")
    for s in statuses:
        ui = s.ui_language or ("English" if s.locale.startswith("en") else "none: English shown")
        values = sum(g.missing for g in s.attributes)
        table.add_row(s.locale, ui, str(len(s.ui_missing)), str(values), str(len(s.labels_missing)))
    out.print(table)
    for s in statuses:
        for gap in s.attributes:
            more = f" and {gap.missing - len(gap.skus)} more" if gap.missing > len(gap.skus) else ""
            out.print(
                f"  {s.locale}: {gap.attribute} missing for {gap.missing} "
                f"({', '.join(gap.skus)}{more})",
                highlight=False,
            )
        if s.labels_missing:
            shown = ", ".join(s.labels_missing[:8])
            rest = f" and {len(s.labels_missing) - 8} more" if len(s.labels_missing) > 8 else ""
            out.print(f"  {s.locale}: no label for {shown}{rest}", highlight=False)
        if s.ui_missing and s.ui_language:
            out.print(f"  {s.locale}: interface strings missing: {len(s.ui_missing)}")


@app.command("channels")
def channels_(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the installed channels and their options."""
    rows = []
    try:
        for name in channel_names():
            cls = load_channel(name)
            fields = [
                (f, info.annotation, info.default) for f, info in cls.Options.model_fields.items()
            ]
            rows.append((name, cls, fields))
    except VitrinaError as exc:
        _fail(exc, as_json)
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "name": name,
                        "description": cls.description,
                        "per_product": cls.per_product,
                        "options": {f: {"type": _type_name(t), "default": d} for f, t, d in fields},
                    }
                    for name, cls, fields in rows
                ],
                default=str,
            )
        )
        return
    for name, cls, fields in rows:
        out.print(f"[bold]{name}[/]  {escape(cls.description)}", markup=True)
        for f, t, d in fields:
            out.print(f"    {name}.{f}: {_type_name(t)} = {d!r}", highlight=False, markup=False)


def _type_name(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")


def main(argv: list[str] | None = None) -> Any:
    """Console entry point."""
    os.environ.setdefault("COLUMNS", "120") if not sys.stdout.isatty() else None
    return app(args=argv)


if __name__ == "__main__":
    main()
