"""Export writes what import reads: import → export → import gives the same catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pim import Catalogue, CatalogueImportError


def snapshot(cat: Catalogue) -> dict[str, object]:
    records = {
        r.sku: (r.kind, r.family, r.parent, r.enabled, r.categories, r.values)
        for kind in ("model", "product")
        for r in cat.records(kind)
    }
    return {
        "structure": cat.structure.model_dump(mode="json"),
        "records": records,
        "summary": cat.summary(),
    }


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_round_trip(example: Catalogue, tmp_path: Path, fmt: str) -> None:
    first = snapshot(example)
    out = tmp_path / "export"
    report = example.export(out, fmt)
    assert report.files[f"products.{fmt}"] == first["summary"]["products"]  # type: ignore[index]
    assert (out / "media").is_dir()
    again = Catalogue.open(tmp_path / "again.db", media=tmp_path / "again-media")
    again.import_path(out)
    assert snapshot(again) == first
    # and exporting the re-imported catalogue gives byte-identical files
    out2 = tmp_path / "export2"
    again.export(out2, fmt)
    for name in ("structure.yaml", f"products.{fmt}", f"product_models.{fmt}"):
        assert (out / name).read_bytes() == (out2 / name).read_bytes(), name


def test_jsonl_akeneo_documents(example: Catalogue, example_dir: Path, tmp_path: Path) -> None:
    path = example_dir.parent / "rest.jsonl"
    docs = [
        {
            "identifier": "KT-K10",
            "values": {"name": [{"locale": "de_DE", "scope": None, "data": "Wasserkocher Neu"}]},
        },
        {
            "identifier": "JS-1",
            "family": "appliances",
            "categories": ["kitchen"],
            "enabled": True,
            "values": {
                "name": [{"locale": "en_US", "scope": None, "data": "Toaster"}],
                "price": [
                    {"locale": None, "scope": None, "data": [{"amount": 24.5, "currency": "EUR"}]}
                ],
                "weight": [
                    {"locale": None, "scope": None, "data": {"amount": "1.2", "unit": "KILOGRAM"}}
                ],
                "image": [{"locale": None, "scope": None, "data": "catalogue/images/KT-K12.png"}],
                "sale_start": [
                    {"locale": None, "scope": None, "data": "2026-12-01T00:00:00+00:00"}
                ],
            },
        },
    ]
    path.write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    report = example.import_file(path)
    assert (report.created, report.updated) == (1, 1)
    toaster = example.product("JS-1")
    assert toaster.values["price"][0]["data"] == [{"amount": "24.5", "currency": "EUR"}]
    assert toaster.values["weight"][0]["data"] == {"amount": "1.2", "unit": "kg"}
    assert toaster.values["sale_start"][0]["data"] == "2026-12-01"
    names = {e["locale"]: e["data"] for e in example.product("KT-K10").values["name"]}
    assert names["de_DE"] == "Wasserkocher Neu" and names["en_US"].startswith("Electric Kettle")


def test_jsonl_problems_name_line_and_field(example: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "identifier": "J-1",
                        "values": {"name": [{"locale": None, "scope": None, "data": "x"}]},
                    }
                ),
                "{not json",
                json.dumps(
                    {
                        "identifier": "J-2",
                        "values": {
                            "price": [
                                {
                                    "locale": None,
                                    "scope": None,
                                    "data": [{"amount": "1,5", "currency": "EUR"}],
                                }
                            ]
                        },
                    }
                ),
                json.dumps({"identifier": "J-3", "colour": "red"}),
                json.dumps(
                    {
                        "identifier": "J-4",
                        "values": {"name": [{"locale": "en_US", "scope": "moon", "data": "x"}]},
                    }
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueImportError) as info:
        example.import_file(path)
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {
        (1, "values.name[0].locale"),
        (2, None),
        (3, "values.price[0].data"),
        (4, "colour"),
        (5, "values.name[0].scope"),
    }
