"""Storage layout for product values: one JSON column per product vs EAV rows, on SQLite.

    python benchmarks/storage_layout.py CATALOGUE_DB [--limit N]

Takes the values of the products in an imported catalogue and stores them both ways, then
times writing them all, streaming them all back as per-product value maps (what resolution
needs), and finding the products with one attribute value (what a filter needs).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson


def _load(db: Path, limit: int) -> list[tuple[str, dict[str, Any]]]:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT sku, \"values\" FROM product WHERE kind = 'product' ORDER BY sku LIMIT ?", (limit,)
    ).fetchall()
    con.close()
    return [(sku, orjson.loads(values)) for sku, values in rows]


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(db: Path, limit: int = 20_000) -> dict[str, dict[str, float]]:
    """Seconds per operation for each layout."""
    products = _load(db, limit)
    folder = Path(tempfile.mkdtemp(prefix="vitrina-layout-"))
    results: dict[str, dict[str, float]] = {}

    con = sqlite3.connect(folder / "json.db")
    con.execute('CREATE TABLE product (id INTEGER PRIMARY KEY, sku TEXT UNIQUE, "values" JSON)')

    def write_json() -> None:
        con.executemany(
            'INSERT INTO product (sku, "values") VALUES (?, ?)',
            [(sku, orjson.dumps(v)) for sku, v in products],
        )
        con.commit()

    def read_json() -> None:
        for _sku, values in con.execute('SELECT sku, "values" FROM product ORDER BY sku'):
            orjson.loads(values)

    def filter_json() -> None:
        con.execute(
            "SELECT count(*) FROM product WHERE EXISTS (SELECT 1 FROM json_each("
            "product.\"values\", '$.color') e WHERE json_extract(e.value, '$.data') "
            "= 'red')"
        ).fetchone()

    results["json column"] = {
        "write": _timed(write_json),
        "read all": _timed(read_json),
        "filter color=red": _timed(filter_json),
    }
    con.close()

    con = sqlite3.connect(folder / "eav.db")
    con.execute("CREATE TABLE product (id INTEGER PRIMARY KEY, sku TEXT UNIQUE)")
    con.execute(
        "CREATE TABLE value (product_id INTEGER, attribute TEXT, locale TEXT, "
        "scope TEXT, data TEXT)"
    )

    def write_eav() -> None:
        con.executemany(
            "INSERT INTO product (id, sku) VALUES (?, ?)",
            [(i, sku) for i, (sku, _) in enumerate(products, 1)],
        )
        con.executemany(
            "INSERT INTO value VALUES (?, ?, ?, ?, ?)",
            [
                (i, code, e["locale"], e["scope"], json.dumps(e["data"]))
                for i, (_, values) in enumerate(products, 1)
                for code, entries in values.items()
                for e in entries
            ],
        )
        con.execute("CREATE INDEX ix_value_product ON value (product_id)")
        con.execute("CREATE INDEX ix_value_attr ON value (attribute, data)")
        con.commit()

    def read_eav() -> None:
        current: dict[str, list[dict[str, Any]]] = {}
        last = None
        for pid, code, locale, scope, data in con.execute(
            "SELECT v.product_id, v.attribute, v.locale, v.scope, v.data FROM product p "
            "JOIN value v ON v.product_id = p.id ORDER BY p.sku"
        ):
            if pid != last:
                current, last = {}, pid
            current.setdefault(code, []).append(
                {"locale": locale, "scope": scope, "data": orjson.loads(data)}
            )

    def filter_eav() -> None:
        con.execute(
            "SELECT count(DISTINCT product_id) FROM value WHERE attribute = 'color' "
            "AND data = '\"red\"'"
        ).fetchone()

    results["EAV rows"] = {
        "write": _timed(write_eav),
        "read all": _timed(read_eav),
        "filter color=red": _timed(filter_eav),
    }
    con.close()
    sizes = {name: (folder / f"{name}.db").stat().st_size for name in ("json", "eav")}
    results["json column"]["MiB on disk"] = sizes["json"] / 2**20
    results["EAV rows"]["MiB on disk"] = sizes["eav"] / 2**20
    results["json column"]["products"] = results["EAV rows"]["products"] = len(products)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--limit", type=int, default=20_000)
    args = parser.parse_args()
    for layout, numbers in compare(args.db, args.limit).items():
        print(layout, {k: round(v, 3) for k, v in numbers.items()})
