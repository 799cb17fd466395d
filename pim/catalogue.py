"""``Catalogue``: the library's entry point: open a database, import, export, query, resolve."""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import String, Text, cast, func, select, type_coerce
from sqlalchemy.engine import Engine
from xxhash import xxh3_128, xxh3_128_digest

from pim.db import database_url, make_engine
from pim.errors import CatalogueImportError, NotFoundError, Problem
from pim.exporter import ExportReport, export_catalogue
from pim.garbage_collection import relaxed_collection
from pim.importer import (
    PRODUCT_SUFFIXES,
    STRUCTURE_SUFFIXES,
    ImportReport,
    Progress,
    import_products,
    import_structure,
    load_structure,
)
from pim.media import MediaStore
from pim.model import media_table, product_table
from pim.records import ProductRecord
from pim.resolve import MediaInfo, Resolver, inherited, media_keys
from pim.structure import Structure
from pim.view import EVERYTHING, ProductView, ResolutionContext, Shown

log = logging.getLogger(__name__)

P = product_table.c
_COLUMNS = (
    P.sku,
    P.kind,
    P.family,
    P.parent,
    P.enabled,
    P.categories,
    P["values"],
    P.family_variant,
    P.groups,
    P.associations,
)
_JSON_NAMES = {"categories", "values", "groups", "associations"}
SkuRange = tuple[str | None, str | None]
"""SKUs from the first (included) to the second (excluded); None: no bound."""


_TEXT_COLUMNS = tuple(cast(c, Text) if c.name in _JSON_NAMES else c for c in _COLUMNS)
"""The same columns with the JSON ones read as their stored text, decoded by :func:`_record`:
SQLAlchemy's JSON result processing cost five times the read itself (8.1 s against 1.6 s
for 100,000 products)."""


def _record(row: Any, digest: bool = False) -> ProductRecord:
    """A record from a row of :data:`_TEXT_COLUMNS` (with the row's hash if ``digest``)."""
    sku, kind, family, parent, enabled, categories, values, variant, groups, links = row
    loads = orjson.loads
    return ProductRecord(
        sku,
        kind,
        family,
        parent,
        bool(enabled),
        loads(categories) if categories else [],
        loads(values) if values else {},
        variant,
        loads(groups) if groups else [],
        loads(links) if links else {},
        digest=_row_digest(row) if digest else b"",
    )


def _row_digest(row: Any) -> bytes:
    """A hash of a row of :data:`_TEXT_COLUMNS`, as stored (XXH3: it tells rows apart
    and is not kept from anyone; BLAKE2 took 2 % of a feed's publication)."""
    return xxh3_128_digest(orjson.dumps(tuple(row)))


def source_digest(structure: bytes, own: bytes, hops: Iterable[bytes]) -> str:
    """What a product's views are resolved from: the structure's hash, its row's hash and,
    for each product model above it (parent first, up to 8), the model row's hash (or the
    parent's SKU where no model of that SKU is stored)."""
    digest = xxh3_128(structure)
    digest.update(own)
    for hop in hops:
        digest.update(b"\0" + hop)
    return digest.hexdigest()


def _hops(
    parent: str | None, models: Callable[[str], tuple[str | None, bytes] | None]
) -> list[bytes]:
    """The hashes :func:`source_digest` takes for the models above a product whose parent is
    ``parent`` (``models``: SKU → the model's parent and row hash, None if not stored)."""
    hops: list[bytes] = []
    while parent is not None and len(hops) < 8:  # as far as resolution follows parents
        model = models(parent)
        hops.append(model[1] if model else parent.encode())
        parent = model[0] if model else None
    return hops


MODEL_CACHE_SIZE = 1024
"""Product models kept while products stream (variants of a model sit close together in
SKU order). Models carry every value their variants inherit, so this bounds memory: at
4,096, completeness of the Akeneo benchmark's 100,000 products peaked at 200 MiB against
162 MiB for 10,000; at 1,024 both peak at 162 MiB."""


@dataclass
class CompletenessReport:
    """Complete and incomplete products per (channel, locale)."""

    channel: str
    locale: str
    total: int = 0
    complete: int = 0
    incomplete: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    """(SKU, missing attributes) of each incomplete product."""
    fallbacks: int = 0
    """Products showing at least one value from a fallback locale."""

    @property
    def ratio(self) -> float:
        """Share of complete products (1.0 for an empty catalogue)."""
        return self.complete / self.total if self.total else 1.0


class Catalogue:
    """A product catalogue in a database, with its media store.

    >>> cat = Catalogue.open("shop.db")                          # doctest: +SKIP
    >>> cat.import_path("examples/catalogue")                    # doctest: +SKIP
    >>> view = cat.resolve("HP-100-BLK", channel="ecommerce", locale="de_DE")  # doctest: +SKIP
    >>> view.price.formatted                                     # doctest: +SKIP
    '79,00 €'
    """

    def __init__(
        self, engine: Engine, media_root: Path, fallbacks: dict[str, tuple[str, ...]] | None = None
    ) -> None:
        self.engine = engine
        self.media = MediaStore(media_root)
        self.fallbacks = dict(fallbacks or {})
        """Fallback chains overriding the structure's (from ``vitrina.toml``)."""
        self._structure: Structure | None = None
        self._structure_digest: tuple[Structure, bytes] | None = None

    @property
    def url(self) -> str:
        """The database URL (with its password, for worker processes)."""
        return self.engine.url.render_as_string(hide_password=False)

    @classmethod
    def open(
        cls,
        db: str | os.PathLike[str] | None = None,
        *,
        media: str | os.PathLike[str] | None = None,
        fallbacks: dict[str, tuple[str, ...]] | None = None,
    ) -> Catalogue:
        """Open (creating if needed) the catalogue at ``db``: a SQLite path or a URL.

        ``db`` defaults to ``$VITRINA_DB``, then ``vitrina.db``. Media are stored in
        ``media``, else ``$VITRINA_MEDIA``, else beside a SQLite file (``shop.media/``) or in
        ``./media`` for a server database.
        """
        url = database_url(db)
        if media is None:
            media = os.environ.get("VITRINA_MEDIA")
        if media is None:
            if url.startswith("sqlite:///") and ":memory:" not in url:
                path = Path(url.removeprefix("sqlite:///"))
                media = path.with_suffix(".media")
            else:
                media = Path("media").resolve()
        return cls(make_engine(url), Path(media), fallbacks)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- structure and imports ----------------------------------------------------------

    @property
    def structure(self) -> Structure:
        """The catalogue's structure (attributes, families, categories, channels, locales)."""
        if self._structure is None:
            with self.engine.connect() as conn:
                structure = load_structure(conn)
            self._structure = (
                structure.with_fallbacks(self.fallbacks) if self.fallbacks else structure
            )
        return self._structure

    def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import one structure (YAML/JSON) or product (CSV/JSON Lines) file in a transaction."""
        file = Path(path)
        if file.suffix.lower() in STRUCTURE_SUFFIXES:
            report = import_structure(self.engine, file, dry_run=dry_run)
            self._structure = None
            return report
        return import_products(
            self.engine, self.structure, self.media, file, dry_run=dry_run, progress=progress
        )

    def import_path(
        self,
        path: str | os.PathLike[str],
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> list[ImportReport]:
        """Import a file, or every importable file of a folder in dependency order."""
        return [
            self.import_file(f, dry_run=dry_run, progress=progress)
            for f in import_order(Path(path))
        ]

    def export(self, directory: str | os.PathLike[str], fmt: str = "csv") -> ExportReport:
        """Export structure, product models, products and media into ``directory``."""
        return export_catalogue(self.structure, self.media, self.records, Path(directory), fmt)

    # -- queries ------------------------------------------------------------------------

    def records(
        self,
        kind: str = "product",
        batch_size: int = 1000,
        skus: Sequence[str] | None = None,
        shard: tuple[int, int] | None = None,
        sku_range: SkuRange | None = None,
        *,
        digests: bool = False,
    ) -> Iterator[ProductRecord]:
        """Stored records of ``kind`` (``product`` or ``model``) in SKU order, streamed.

        ``shard=(i, n)`` reads only the i-th of n disjoint parts, for parallel workers;
        ``sku_range`` (from :meth:`sku_ranges`) only the SKUs in that range; ``digests``
        gives each record the hash of its stored row (:attr:`ProductRecord.digest`).
        """
        last = ""
        with self.engine.connect() as conn:
            while True:
                query = (
                    select(*_TEXT_COLUMNS)
                    .where(P.kind == kind, P.sku > last)
                    .order_by(P.sku)
                    .limit(batch_size)
                )
                if skus is not None:
                    query = query.where(P.sku.in_(list(skus)))
                if shard is not None:
                    query = query.where(P.id % shard[1] == shard[0])
                if sku_range is not None:
                    low, high = sku_range
                    if low is not None:
                        query = query.where(P.sku >= low)
                    if high is not None:
                        query = query.where(P.sku < high)
                rows = conn.execute(query).all()
                if not rows:
                    return
                for row in rows:
                    yield _record(row, digests)
                last = rows[-1][0]

    def sku_ranges(
        self,
        parts: int,
        kind: str = "product",
        total: int | None = None,
        sizes: Sequence[int] | None = None,
    ) -> list[SkuRange]:
        """``parts`` consecutive SKU ranges holding about as many records each, or as many
        as their relative ``sizes`` say (``total``: how many records of ``kind`` there are,
        when the caller has counted them).

        Workers that each take one range and whose outputs are joined in range order give
        the same order as one worker reading everything.
        """
        weights = list(sizes) if sizes is not None else [1] * parts
        if len(weights) != parts or min(weights) < 1:
            raise ValueError(f"{parts} parts need as many sizes of at least 1, not {sizes}")
        if total is None:
            total = self.count(kind) if parts > 1 else 0
        if total < parts:  # one part, or fewer records than parts: the first takes all
            return [(None, None)] + [("", "")] * (parts - 1)
        with self.engine.connect() as conn:
            bounds: list[str | None] = [None]
            for i in range(1, parts):
                query = (
                    select(P.sku)
                    .where(P.kind == kind)
                    .order_by(P.sku)
                    .offset(total * sum(weights[:i]) // sum(weights))
                    .limit(1)
                )
                bounds.append(conn.execute(query).scalar_one())
            bounds.append(None)
        return list(pairwise(bounds))

    def product(self, sku: str) -> ProductRecord:
        """One product or product model by SKU."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_TEXT_COLUMNS).where(P.sku == sku)).first()
        if row is None:
            raise NotFoundError(f"no product with SKU {sku!r}")
        return _record(row)

    def content_digest(self) -> str:
        """A SHA-256 of the structure and every stored product and model, as stored.

        Hashes the columns' stored text (no JSON decoding), so it costs a read of the table:
        it changes whenever anything that can be published changes.
        """
        digest = hashlib.sha256(
            orjson.dumps(self.structure.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        )
        columns = [type_coerce(c, String) if c.name in _JSON_NAMES else c for c in _COLUMNS]
        with self.engine.connect() as conn:
            rows = conn.execution_options(yield_per=2000).execute(
                select(*columns).order_by(P.kind, P.sku)
            )
            for row in rows:
                digest.update(orjson.dumps(tuple(row)))
        return digest.hexdigest()

    def structure_digest(self) -> bytes:
        """A hash of the structure (fallback chains included), as products resolve against it."""
        if self._structure_digest is None or self._structure_digest[0] is not self.structure:
            data = orjson.dumps(self.structure.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
            self._structure_digest = (
                self.structure,
                hashlib.blake2b(data, digest_size=16).digest(),
            )
        return self._structure_digest[1]

    def source_digests(self, sku_range: SkuRange | None = None) -> dict[str, str]:
        """SKU → a hash of what the product's views are resolved from: its stored row, its
        product models' rows and the structure. Equal hashes, equal views at any moment
        within their :attr:`~pim.view.ProductView.stable` days (media are stored by content).
        Products only, in SKU order, those in ``sku_range`` when given.

        The products stream; only the hashes of the product models they descend from are
        held (100,000 products: 1 GiB peak when every row was held, 100 MiB now)."""
        low, high = sku_range or (None, None)

        def in_range(query: Any) -> Any:
            query = query.where(P.kind == "product")
            if low is not None:
                query = query.where(P.sku >= low)
            if high is not None:
                query = query.where(P.sku < high)
            return query

        models: dict[str, tuple[str | None, bytes]] = {}
        digests: dict[str, str] = {}
        structure = self.structure_digest()
        with self.engine.connect() as conn:
            parents = select(P.parent).where(P.parent.is_not(None)).distinct()
            wanted = set(conn.execute(in_range(parents)).scalars())
            while wanted:  # a level of product models at a time (a variant's parent, then its)
                found: set[str] = set()
                names = sorted(wanted)
                for i in range(0, len(names), 500):
                    rows = conn.execute(
                        select(*_TEXT_COLUMNS).where(
                            P.kind == "model", P.sku.in_(names[i : i + 500])
                        )
                    )
                    for row in rows:
                        models[row[0]] = (row[3], _row_digest(row))
                        found.add(row[0])
                wanted = {
                    parent
                    for m in found
                    if (parent := models[m][0]) is not None and parent not in models
                }
            query = in_range(select(*_TEXT_COLUMNS)).order_by(P.sku)
            for row in conn.execution_options(yield_per=2000).execute(query):
                hops = _hops(row[3], models.get)
                digests[row[0]] = source_digest(structure, _row_digest(row), hops)
        return digests

    def count(self, kind: str = "product") -> int:
        """How many products (or product models) the catalogue holds."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(product_table).where(P.kind == kind)
                ).scalar_one()
            )

    def ancestors(self, record: ProductRecord) -> list[ProductRecord]:
        """The product models above ``record``, parent first."""
        chain: list[ProductRecord] = []
        parent = record.parent
        while parent is not None and len(chain) < 8:
            model = self.product(parent)
            chain.append(model)
            parent = model.parent
        return chain

    def media_info(self, keys: set[str]) -> dict[str, MediaInfo]:
        """What resolution needs to know of the media ``keys``."""
        if not keys:
            return {}
        with self.engine.connect() as conn:
            m = media_table.c
            rows = conn.execute(
                select(m.key, m.mime, m.width, m.height, m.bytes).where(m.key.in_(list(keys)))
            ).all()
        return {r.key: MediaInfo(r.key, r.mime, r.width, r.height, r.bytes) for r in rows}

    # -- resolution ---------------------------------------------------------------------

    def resolver(
        self,
        channel: str,
        locale: str,
        audience: str | None = None,
        moment: datetime | None = None,
        *,
        fingerprints: bool = False,
        shown: Shown = EVERYTHING,
    ) -> Resolver:
        """A resolver for one context (for views of what ``shown`` says)."""
        ctx = (
            ResolutionContext(channel, locale, audience)
            if moment is None
            else ResolutionContext(channel, locale, audience, moment)
        )
        return Resolver(self.structure, ctx, fingerprints=fingerprints, shown=shown)

    def resolve(
        self,
        sku: str,
        channel: str,
        locale: str,
        audience: str | None = None,
        moment: datetime | None = None,
    ) -> ProductView:
        """The view of one product for a context."""
        record = self.product(sku)
        resolver = self.resolver(channel, locale, audience, moment)
        ancestors = self.ancestors(record)
        media = self.media_info(media_keys([record, *ancestors], self.structure))
        return resolver.resolve(record, ancestors, media)

    def views(
        self,
        channel: str,
        locale: str,
        audience: str | None = None,
        moment: datetime | None = None,
        *,
        skus: Sequence[str] | None = None,
        batch_size: int = 500,
        shard: tuple[int, int] | None = None,
        sku_range: SkuRange | None = None,
        fingerprints: bool = False,
        sources: bool = False,
        shown: Shown = EVERYTHING,
    ) -> Iterator[ProductView]:
        """Views of every product (not product models) for a context, streamed in SKU order.

        Memory stays flat: products are read ``batch_size`` at a time, with their product
        models (a bounded cache) and the facts of their media. ``shard=(i, n)`` yields only
        the i-th of n disjoint parts, so n processes can share the work; ``sku_range`` (from
        :meth:`sku_ranges`) only the products in that range; ``fingerprints`` sets each
        view's :attr:`~pim.view.ProductView.fingerprint` and ``sources`` its
        :attr:`~pim.view.ProductView.source` (from the rows as they are read); ``shown``
        leaves out of the views what a channel does not show.
        """
        resolver = self.resolver(
            channel, locale, audience, moment, fingerprints=fingerprints, shown=shown
        )
        models: OrderedDict[str, ProductRecord] = OrderedDict()
        batch: list[ProductRecord] = []
        structure = self.structure_digest() if sources else None
        records = self.records("product", batch_size, skus, shard, sku_range, digests=sources)
        with relaxed_collection():
            for record in records:
                batch.append(record)
                if len(batch) >= batch_size:
                    yield from self._resolve_batch(resolver, batch, models, structure)
                    batch = []
            if batch:
                yield from self._resolve_batch(resolver, batch, models, structure)

    def _resolve_batch(
        self,
        resolver: Resolver,
        batch: list[ProductRecord],
        models: OrderedDict[str, ProductRecord],
        structure: bytes | None = None,
    ) -> list[ProductView]:
        """The views of ``batch``, all resolved before any is handed on
        (:meth:`Resolver.resolve_all`); with ``structure`` (its hash), each with its source,
        in a pass of its own."""
        chains = self._chains(batch, models, digests=structure is not None)
        media = self.media_info(
            media_keys([*batch, *(m for c in chains.values() for m in c)], self.structure)
        )
        views = resolver.resolve_all(((r, chains[r.sku]) for r in batch), media)
        if structure is not None:  # the views are new and not yet shared
            for r, view in zip(batch, views, strict=True):
                found = {m.sku: (m.parent, m.digest) for m in chains[r.sku]}
                hops = _hops(r.parent, found.get)
                object.__setattr__(view, "source", source_digest(structure, r.digest, hops))
        return views

    def _chains(
        self,
        batch: list[ProductRecord],
        models: OrderedDict[str, ProductRecord],
        *,
        digests: bool = False,
    ) -> dict[str, list[ProductRecord]]:
        """Each record's product models, parent first (``models``: a bounded cache)."""

        def missing(records: Iterable[ProductRecord]) -> set[str]:
            """Parents not cached (or cached without the row hash ``digests`` asks for)."""
            return {
                r.parent
                for r in records
                if r.parent
                and (r.parent not in models or (digests and not models[r.parent].digest))
            }

        wanted = missing(batch)
        while wanted:
            fetched = list(
                self.records("model", max(len(wanted), 1), sorted(wanted), digests=digests)
            )
            for m in fetched:
                models[m.sku] = m
            wanted = missing(fetched)
        while len(models) > MODEL_CACHE_SIZE:
            models.popitem(last=False)
        chains: dict[str, list[ProductRecord]] = {}
        for r in batch:
            chain: list[ProductRecord] = []
            parent = r.parent
            while parent is not None and parent in models and len(chain) < 8:
                chain.append(models[parent])
                parent = models[parent].parent
            chains[r.sku] = chain
        return chains

    def completeness(
        self, channel: str | None = None, locale: str | None = None
    ) -> list[CompletenessReport]:
        """Completeness per channel and locale (all of the catalogue's by default).

        One pass over the products: each is checked in every context without being
        resolved in full.
        """
        contexts: list[tuple[CompletenessReport, Resolver]] = []
        for ch in self.structure.channels.values():
            if channel is not None and ch.code != channel:
                continue
            for loc in ch.locales:
                if locale is not None and loc != locale:
                    continue
                contexts.append((CompletenessReport(ch.code, loc), self.resolver(ch.code, loc)))
        if channel is not None and not contexts:
            raise NotFoundError(f"no channel {channel!r} with locale {locale!r}")
        models: OrderedDict[str, ProductRecord] = OrderedDict()
        batch: list[ProductRecord] = []

        def check(batch: list[ProductRecord]) -> None:
            chains = self._chains(batch, models)
            for record in batch:
                chain = chains[record.sku]
                values = inherited(record, chain)
                family = record.family or next((a.family for a in chain if a.family), None)
                for report, resolver in contexts:
                    missing = resolver.missing(family, values)
                    report.total += 1
                    if missing:
                        report.incomplete.append((record.sku, missing))
                    else:
                        report.complete += 1
                    report.fallbacks += resolver.uses_fallback(family, values)

        with relaxed_collection():
            for record in self.records("product"):
                batch.append(record)
                if len(batch) >= 500:
                    check(batch)
                    batch = []
            if batch:
                check(batch)
        return [report for report, _ in contexts]

    def summary(self) -> dict[str, int]:
        """Counts of what the catalogue holds."""
        s = self.structure
        with self.engine.connect() as conn:
            media = int(conn.execute(select(func.count()).select_from(media_table)).scalar_one())
        return {
            "products": self.count("product"),
            "product models": self.count("model"),
            "attributes": len(s.attributes),
            "families": len(s.families),
            "categories": len(s.categories),
            "channels": len(s.channels),
            "locales": len(s.locales),
            "media": media,
        }


def import_order(path: Path) -> list[Path]:
    """Files to import from ``path``: itself, or a folder's structure, models, then products."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CatalogueImportError([Problem(str(path), "no such file or folder")])
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in STRUCTURE_SUFFIXES + PRODUCT_SUFFIXES
    )

    def rank(p: Path) -> tuple[int, str]:
        if p.suffix.lower() in STRUCTURE_SUFFIXES:
            return 0, p.name
        return (1 if "model" in p.stem.lower() else 2), p.name

    ordered = sorted(files, key=rank)
    if not ordered:
        raise CatalogueImportError(
            [
                Problem(
                    str(path),
                    "no structure (.yaml, .json) or product (.csv, .jsonl) files in the folder",
                )
            ]
        )
    return ordered
