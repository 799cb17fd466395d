"""Coming from Akeneo: a whole export folder imported, published, and exported back."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from helpers import kiosk_data
from pypdf import PdfReader
from typer.testing import CliRunner

from pim import Catalogue, CatalogueImportError
from pim.akeneo import export_akeneo, import_akeneo
from pim.cli import app

AKENEO = Path(__file__).parent / "fixtures" / "akeneo"
runner = CliRunner()
MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
ENABLED = ["HOODIE-BLACK", "HOODIE-GREY", "HP-200", "SPK-100", "TS-BLUE-M", "TS-RED-M", "TS-RED-S"]


@pytest.fixture
def akeneo(catalogue: Catalogue) -> Catalogue:
    """The Akeneo fixture imported, on each backend."""
    import_akeneo(catalogue, AKENEO)
    return catalogue


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the Akeneo fixture to damage."""
    target = tmp_path / "akeneo"
    shutil.copytree(AKENEO, target)
    return target


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def edit(path: Path, key: str, column: str, value: str) -> None:
    """Set one cell of an Akeneo CSV file (the row whose first cell is ``key``)."""
    header, rows = read(path)
    if column not in header:
        header.append(column)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            if row[header[0]] == key:
                row[column] = value
            writer.writerow([row.get(c, "") for c in header])


def test_the_structure_maps_onto_vitrina(akeneo: Catalogue) -> None:
    s = akeneo.structure
    assert sorted(s.locales) == ["de_DE", "en_US", "fr_FR"]  # es_ES is not activated
    assert s.currencies == ("EUR", "USD")
    ecommerce = s.channels["ecommerce"]
    assert ecommerce.category_tree == "master" and ecommerce.currency_codes == ("EUR", "USD")
    assert ecommerce.currencies == {"*": "EUR", "de_DE": "EUR", "en_US": "USD", "fr_FR": "EUR"}
    assert ecommerce.timezone == "Europe/Berlin"  # from the folder's vitrina.yaml
    assert s.channels["print"].conversion_units == {"weight": "KILOGRAM"}
    types = {code: a.type for code, a in s.attributes.items()}
    assert types["sku"] == "identifier" and types["price"] == "price"
    assert types["weight"] == "metric" and s.attributes["weight"].default_unit == "kg"
    assert types["user_manual"] == "file" and types["material"] == "multiselect"
    assert s.attributes["legacy_ref"].properties["type"] == "pim_reference_data_simpleselect"
    assert s.attributes["ean"].validation_rule == "regexp"
    assert s.attributes["eu_energy_label"].available_locales == ("de_DE", "fr_FR")
    assert s.attributes["warranty_years"].decimals == 0 and s.attributes["warranty_years"].max == 10
    assert [o.code for o in s.attributes["size"].options] == ["s", "m", "l"]
    assert s.attributes["color"].options[0].labels["de_DE"] == "Rot"
    variant = s.family_variants["clothing_color_size"]
    assert [lv.axes for lv in variant.levels] == [("color",), ("size",)]
    assert s.families["clothing"].requirements["print"] == ("sku", "name", "price")
    assert s.categories["tshirts"].parent == "clothing" and s.categories["sales"].parent is None
    assert s.association_types["PACK"].quantified and s.association_types["SUBSTITUTION"].two_way
    assert s.groups["gift_ideas"].type == "XSELL"
    assert s.attribute_groups["technical"].labels["de_DE"] == "Technik"
    assert s.roles.name == "name" and s.roles.images[0] == "picture"


def test_variants_inherit_along_the_family_variant_levels(akeneo: Catalogue) -> None:
    variant = akeneo.product("TS-RED-S")
    # values held by the models are not copied onto the variant, its own level's are kept
    assert "name" not in variant.values and "color" not in variant.values
    assert set(variant.values) == {"size", "ean", "weight", "availability"}
    sub = akeneo.product("TSHIRT-BASIC-RED")
    assert set(sub.values) == {"color", "variation_image", "material"}
    assert sub.family == "clothing" and sub.family_variant == "clothing_color_size"
    view = akeneo.resolve("TS-RED-S", "ecommerce", "de_DE", moment=MOMENT)
    assert view.name == "Basic-T-Shirt" and view.price is not None
    assert view.price.formatted == "19,90\xa0€"
    assert [a.formatted for a in view.axes] == ["Rot", "S"]
    assert view.group == "TSHIRT-BASIC"  # the root model groups every colour and size
    assert len(view.images) == 2  # the family's attribute_as_image, then the colour's picture
    en = akeneo.resolve("TS-RED-S", "ecommerce", "en_US", moment=MOMENT)
    assert en.price is not None and en.price.currency == "USD"
    care = next(a for a in view.attributes if a.code == "care_instructions")
    assert care.formatted == "Bei 30 °C waschen\nNicht im Trockner trocknen"


def test_associations_groups_and_rich_text(akeneo: Catalogue) -> None:
    speaker = akeneo.product("SPK-100")
    assert speaker.groups == ["summer_collection", "gift_ideas"]
    assert speaker.associations["PACK"] == {"products": [["CABLE-1", 2]]}
    assert speaker.associations["X_SELL"] == {"products": ["HP-200"]}
    assert akeneo.product("HP-200").associations["X_SELL"] == {
        "groups": ["summer_collection"],
        "products": ["SPK-100", "CABLE-1"],
    }
    assert akeneo.product("TS-RED-M").associations == {"UPSELL": {"product_models": ["HOODIE"]}}
    view = akeneo.resolve("SPK-100", "ecommerce", "en_US", moment=MOMENT)
    assert "javascript:" not in view.description_html and "more" in view.description_html
    assert view.description_text.startswith("A waterproof Bluetooth speaker & power bank")
    shirt = akeneo.resolve("TS-RED-S", "ecommerce", "en_US", moment=MOMENT)
    assert "<script" not in shirt.description_html and "organic cotton" in shirt.description_text
    assert akeneo.resolve("CABLE-1", "ecommerce", "en_US").enabled is False


def test_attributes_exist_only_in_their_locales(akeneo: Catalogue) -> None:
    de = akeneo.resolve("SPK-100", "ecommerce", "de_DE", moment=MOMENT)
    en = akeneo.resolve("SPK-100", "ecommerce", "en_US", moment=MOMENT)
    assert de.attribute("eu_energy_label") is not None
    assert de.attribute("eu_energy_label").formatted == "Klasse B"  # type: ignore[union-attr]
    assert en.attribute("eu_energy_label") is None  # not even through the fallback chain
    assert de.attribute("user_manual") is None  # files are not shown as text


def test_summary_counts_warnings_and_completeness(catalogue: Catalogue) -> None:
    report = import_akeneo(catalogue, AKENEO)
    assert report.counts["products"] == 8 and report.counts["product_models"] == 4
    assert report.counts["attributes"] == 28 and report.counts["attribute_options"] == 16
    assert report.counts["family_variants"] == 2 and report.counts["media"] == 10
    kinds = report.warnings_by_kind()
    missing = kinds["missing media"]
    assert len(missing) == 1 and missing[0].column == "user_manual" and missing[0].row == 8
    assert "HP-200" in missing[0].message and "hp-200-manual.pdf" in missing[0].message
    assert "legacy_ref" in kinds["unsupported attribute type"][0].message
    complete = {
        (c["channel"], c["locale"]): (c["complete"], c["total"]) for c in report.completeness
    }
    assert complete[("ecommerce", "fr_FR")] == (8, 8) and ("print", "fr_FR") not in complete
    assert "user_manual" not in catalogue.product("HP-200").values  # imported without it


def test_strict_mode_refuses_missing_media(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueImportError) as caught:
        import_akeneo(catalogue, AKENEO, strict=True)
    problem = caught.value.problems[0]
    assert problem.file.endswith("products.csv") and problem.row == 8
    assert problem.column == "user_manual" and "no such file" in problem.message
    assert catalogue.count() == 0 and not catalogue.structure.attributes  # nothing written


@pytest.mark.parametrize(
    ("file", "key", "column", "value", "message"),
    [
        ("products.csv", "SPK-100", "price-EUR", "129,00", "use '.' as the decimal separator"),
        ("products.csv", "SPK-100", "ean", "12345", "expected text matching"),
        ("products.csv", "SPK-100", "support_email", "not-an-address", "expected an e-mail"),
        ("products.csv", "SPK-100", "release_date-print", "2019-05-01", "2020-01-01 or later"),
        ("products.csv", "SPK-100", "PACK-products-quantity", "two", "expected 1 quantities"),
        ("products.csv", "TS-RED-S", "size", "xxl", "unknown option 'xxl'"),
        ("product_models.csv", "HOODIE", "family_variant", "nope", "unknown family variant"),
        ("families.csv", "clothing", "attributes", "sku,name,colour", "unknown attribute 'colour'"),
        ("attributes.csv", "weight", "default_metric_unit", "FURLONG", "unit 'FURLONG'"),
    ],
)
def test_a_malformed_file_is_refused_and_nothing_written(
    catalogue: Catalogue, folder: Path, file: str, key: str, column: str, value: str, message: str
) -> None:
    edit(folder / file, key, column, value)
    with pytest.raises(CatalogueImportError) as caught:
        import_akeneo(catalogue, folder)
    found = [p for p in caught.value.problems if message in p.message]
    assert found, caught.value.problems
    assert found[0].file.endswith(file) and found[0].row is not None, found[0]
    assert catalogue.count() == 0 and catalogue.count("model") == 0
    assert not catalogue.structure.attributes


def test_a_variant_value_at_another_level_is_ignored_with_a_warning(
    catalogue: Catalogue, folder: Path
) -> None:
    edit(folder / "products.csv", "TS-RED-S", "name-en_US", "Renamed on the variant")
    report = import_akeneo(catalogue, folder)
    warning = report.warnings_by_kind()["value at another level"][0]
    assert warning.column == "name" and "TS-RED-S" in warning.message
    assert catalogue.resolve("TS-RED-S", "ecommerce", "en_US").name == "Basic T-shirt"


def _cell(folder: Path, column: str, value: str) -> object:
    """A cell as a comparable value: media by content, numbers as decimals."""
    if value.startswith("files/"):
        return hashlib.sha256((folder / value).read_bytes()).hexdigest()
    try:
        return Decimal(value)
    except InvalidOperation:
        return value.replace("\\n", "\n")


def test_round_trip_keeps_every_value(akeneo: Catalogue, tmp_path: Path) -> None:
    out = tmp_path / "back"
    report = export_akeneo(akeneo, out)
    assert report.files["products.csv"] == 8 and report.files["product_models.csv"] == 4
    compared = 0
    for original in sorted(AKENEO.glob("*.csv")):
        header, rows = read(original)
        _, new_rows = read(out / original.name)
        key = header[0] if original.name != "attribute_options.csv" else "attribute"

        def ident(row: dict[str, str], key: str = key) -> tuple[str, str]:
            return row[key], row.get("code", "")

        exported = {ident(r): r for r in new_rows}
        for row in rows:
            if row.get("activated") == "0":  # Vitrina keeps the activated locales, currencies
                assert ident(row) not in exported
                continue
            assert ident(row) in exported, (original.name, ident(row))
            again = exported[ident(row)]
            for column, value in row.items():
                if (original.name, ident(row)[0], column) == (
                    "products.csv",
                    "HP-200",
                    "user_manual",
                ):
                    assert again[column] == ""  # its file was missing: imported without it
                    continue
                assert _cell(AKENEO, column, value) == _cell(out, column, again.get(column, "")), (
                    original.name,
                    ident(row),
                    column,
                )
                compared += 1
    assert compared > 1000
    # and the exported folder imports again into the same catalogue
    again = Catalogue.open(tmp_path / "again.db", media=tmp_path / "again-media")
    import_akeneo(again, out)
    for kind in ("model", "product"):
        first = {
            r.sku: (r.values, r.categories, r.associations, r.groups) for r in akeneo.records(kind)
        }
        second = {
            r.sku: (r.values, r.categories, r.associations, r.groups) for r in again.records(kind)
        }
        assert first == second
    assert again.structure == akeneo.structure


def test_native_export_keeps_variants_groups_and_associations(
    akeneo: Catalogue, tmp_path: Path
) -> None:
    akeneo.export(tmp_path / "native")
    again = Catalogue.open(tmp_path / "again.db", media=tmp_path / "media")
    again.import_path(tmp_path / "native")
    for kind in ("model", "product"):
        first = [
            (r.sku, r.family_variant, r.groups, r.associations, r.values)
            for r in akeneo.records(kind)
        ]
        second = [
            (r.sku, r.family_variant, r.groups, r.associations, r.values)
            for r in again.records(kind)
        ]
        assert first == second


def test_import_then_publish_every_channel_from_the_command_line(tmp_path: Path) -> None:
    options = ["--db", str(tmp_path / "shop.db"), "--media", str(tmp_path / "media")]
    result = runner.invoke(app, [*options, "import", "--from", "akeneo", str(AKENEO)])
    assert result.exit_code == 0, result.stderr
    assert "products" in result.stdout and "missing media" in result.stderr
    out = tmp_path / "out"
    result = runner.invoke(
        app, [*options, "publish", "--out", str(out), "--at", MOMENT.isoformat(), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {s["sku"] for s in manifest["skipped"]} == {"CABLE-1"}  # disabled in Akeneo
    for locale in ("de_DE", "en_US", "fr_FR"):
        for sku in ENABLED:
            doc = json.loads((out / "web" / locale / "products" / f"{sku}.json").read_text())
            assert doc["sku"] == sku and doc["price"]["currency"] == (
                "USD" if locale == "en_US" else "EUR"
            )
        google = (out / "feeds" / locale / "google.xml").read_text(encoding="utf-8")
        assert all(f"<g:id>{sku}</g:id>" in google for sku in ENABLED)
        assert "<g:item_group_id>TSHIRT-BASIC</g:item_group_id>" in google
        data = kiosk_data(out / "kiosk" / "store", locale)
        assert sorted(p["sku"] for p in data["data"]["products"]) == ENABLED
        text = "".join(
            p.extract_text() for p in PdfReader(out / "pdf" / locale / "catalogue.pdf").pages
        )
        assert "SPK-100" in text or "Outdoor" in text
    assert "Kapuzenjacke" in (out / "web" / "de_DE" / "products" / "HOODIE-GREY.json").read_text()
