"""Importing Akeneo-style CSV: upserts, and every kind of bad input rejected whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PRODUCT_HEADER, product_row, write_csv
from PIL import Image

from pim import Catalogue, CatalogueImportError


def problems_of(cat: Catalogue, path: Path) -> list[str]:
    with pytest.raises(CatalogueImportError) as info:
        cat.import_file(path)
    return [str(p) for p in info.value.problems]


def test_example_catalogue_imports(example: Catalogue) -> None:
    summary = example.summary()
    assert summary["products"] >= 60
    assert summary["product models"] == 5
    assert summary["families"] >= 3
    record = example.product("HP-ECHO-RED")
    assert record.parent == "HP-ECHO" and record.family == "headphones"
    prices = {
        p["currency"]: p["amount"] for p in example.product("KT-K17").values["price"][0]["data"]
    }
    assert prices == {"BGN": "117.33", "EUR": "59.99", "PLN": "257.99"}


def test_upsert_updates_only_the_given_columns(example: Catalogue, workdir: Path) -> None:
    before = example.product("KT-K10")
    path = write_csv(workdir / "update.csv", ["sku", "price-EUR"], ["KT-K10", "25.50"])
    report = example.import_file(path)
    assert (report.created, report.updated) == (0, 1)
    after = example.product("KT-K10")
    prices = {p["currency"]: p["amount"] for p in after.values["price"][0]["data"]}
    assert prices == {"EUR": "25.50"}  # the price collection is replaced as a whole
    assert after.values["name"] == before.values["name"]
    assert after.family == before.family and after.categories == before.categories


def test_new_products_are_created(example: Catalogue, workdir: Path) -> None:
    path = write_csv(
        workdir / "new.csv",
        PRODUCT_HEADER,
        product_row("NEW-1"),
        product_row("NEW-2", image="images/KT-K12.png"),
    )
    report = example.import_file(path)
    assert (report.created, report.updated, report.media) == (2, 0, 2)
    assert example.product("NEW-2").values["image"][0]["data"].endswith(".png")


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (
            None,
            product_row("A-1", price="12,50"),
            "column 'price-EUR': expected a decimal number like 12.50 for the price in EUR "
            "(use '.' as the decimal separator)",
        ),
        (None, product_row("A-1", price="-3"), "price in EUR must not be negative"),
        (None, product_row("A-1", price="NaN"), "expected a decimal number like 12.50"),
        (None, product_row("A-1", price="1e400"), "expected a decimal number like 12.50"),
        (None, product_row("A-1", price="99999999999"), "must be below"),
        (None, product_row("A-1", price="1.999"), "at most 2 decimal places"),
        (None, product_row("A-1", category="nowhere"), "unknown category 'nowhere'"),
        (None, product_row("A-1", name="x" * 151), "at most 150 characters"),
        (
            None,
            ["A-1", "spaceships", "kitchen", "x", "1.00", "in_stock", ""],
            "unknown family 'spaceships'",
        ),
        (None, ["A-1", "appliances", "kitchen", "x", "1.00", "sold", ""], "unknown option 'sold'"),
        (
            None,
            product_row("A-1", image="https://example.com/a.png"),
            "https: references are not fetched",
        ),
        (None, product_row("A-1", image="file:///etc/passwd"), "file: references are not"),
        (None, product_row("A-1", image="../../etc/passwd"), "leaves the folder"),
        (None, product_row("A-1", image="/etc/passwd"), "absolute paths are refused"),
        (None, product_row("A-1", image="images/missing.png"), "no such file"),
        (None, product_row("A/../x"), "may not contain /"),
        (None, product_row(" A-1"), "leading or trailing spaces"),
        (["sku", "colour"], ["A-1", "red"], "column 'colour': unknown attribute 'colour'"),
        (["sku", "name-xx_XX"], ["A-1", "x"], "unknown locale 'xx_XX'"),
        (["sku", "description-en_US-moon"], ["A-1", "x"], "unknown channel 'moon'"),
        (["sku", "name"], ["A-1", "x"], "'name' is localizable; expected name-<locale>"),
        (["sku", "price"], ["A-1", "1"], "'price' is a price; expected"),
        (["sku", "brand-en_US"], ["A-1", "x"], "is not localizable"),
        (["name-en_US"], ["x"], "missing required column 'sku'"),
        (["sku", "weight", "weight-unit"], ["A-1", "3", "parsec"], "unknown unit 'parsec'"),
        (["sku", "bluetooth"], ["A-1", "maybe"], "expected a boolean (1 or 0)"),
        (["sku", "sale_start"], ["A-1", "2026-02-30"], "expected a valid date"),
        (["sku", "sale_start"], ["A-1", "30.11.2026"], "expected a date like 2026-12-31"),
    ],
)
def test_bad_cells_are_rejected_with_their_place(
    example: Catalogue, workdir: Path, header: list[str] | None, row: list[str], expected: str
) -> None:
    path = write_csv(workdir / "bad.csv", header or PRODUCT_HEADER, product_row("OK-1"), row)
    count = example.count()
    problems = problems_of(example, path)
    assert any(expected in p for p in problems), problems
    assert all(str(path) in p for p in problems)
    assert example.count() == count  # nothing written, not even the valid row
    with pytest.raises(Exception):  # noqa: B017 - NotFoundError
        example.product("OK-1")


def test_problem_names_row_and_column(example: Catalogue, workdir: Path) -> None:
    path = write_csv(
        workdir / "bad.csv", PRODUCT_HEADER, product_row("OK-1"), product_row("OK-2", price="abc")
    )
    with pytest.raises(CatalogueImportError) as info:
        example.import_file(path)
    problem = info.value.problems[0]
    assert (problem.file, problem.row, problem.column) == (str(path), 3, "price-EUR")


def test_every_problem_is_reported(example: Catalogue, workdir: Path) -> None:
    path = write_csv(
        workdir / "bad.csv",
        PRODUCT_HEADER,
        product_row("A-1", price="x"),
        product_row("A-2", category="nope"),
        product_row("A-3", name="y" * 200),
    )
    assert len(problems_of(example, path)) == 3


def test_duplicate_skus_in_a_file(example: Catalogue, workdir: Path) -> None:
    path = write_csv(
        workdir / "dup.csv",
        PRODUCT_HEADER,
        product_row("D-1"),
        product_row("D-1"),
        product_row("d-1"),
    )
    problems = problems_of(example, path)
    assert any(
        "row 3" in p and "duplicate identifier 'D-1' (first on row 2)" in p for p in problems
    )
    assert any("row 4" in p and "as 'D-1'" in p for p in problems)


def test_a_sku_differing_only_in_case_from_a_stored_one(example: Catalogue, workdir: Path) -> None:
    path = write_csv(
        workdir / "case.csv", PRODUCT_HEADER, product_row("kt-k10"), product_row("NEW-1")
    )
    problems = problems_of(example, path)
    assert len(problems) == 1
    assert "row 2" in problems[0] and "'kt-k10' differs only in case from 'KT-K10'" in problems[0]
    with pytest.raises(Exception, match="no product"):
        example.product("NEW-1")  # the import is refused whole


def test_invalid_utf8_names_the_line(example: Catalogue, workdir: Path) -> None:
    path = workdir / "latin1.csv"
    path.write_bytes(
        ";".join(PRODUCT_HEADER).encode()
        + b"\n"
        + ";".join(product_row("U-1")).encode()
        + b"\n"
        + "U-2;appliances;kitchen;Küche;1.00;in_stock;".encode("latin-1")
        + b"\n"
    )
    problems = problems_of(example, path)
    assert any("row 3" in p and "invalid UTF-8" in p for p in problems), problems


def test_ragged_row_and_empty_file(example: Catalogue, workdir: Path) -> None:
    path = write_csv(workdir / "ragged.csv", PRODUCT_HEADER, ["R-1", "appliances"])
    assert any("expected 7 cells" in p for p in problems_of(example, path))
    empty = workdir / "empty.csv"
    empty.write_text("")
    assert any("the file is empty" in p for p in problems_of(example, empty))


def test_corrupt_and_oversized_images(example: Catalogue, workdir: Path) -> None:
    (workdir / "images" / "truncated.png").write_bytes(
        (workdir / "images" / "KT-K10.png").read_bytes()[:300]
    )
    (workdir / "images" / "fake.png").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    Image.new("1", (9000, 9000)).save(workdir / "images" / "bomb.png")
    path = write_csv(
        workdir / "imgs.csv",
        PRODUCT_HEADER,
        product_row("I-1", image="images/truncated.png"),
        product_row("I-2", image="images/fake.png"),
        product_row("I-3", image="images/bomb.png"),
    )
    problems = problems_of(example, path)
    assert any("row 2" in p and "not a readable image" in p for p in problems), problems
    assert any("row 3" in p and "not a readable image" in p for p in problems), problems
    assert any("row 4" in p and "image too large" in p for p in problems), problems


def test_variants_need_a_known_model_and_their_axis(example: Catalogue, workdir: Path) -> None:
    path = write_csv(
        workdir / "variants.csv",
        ["sku", "parent", "color"],
        ["V-1", "HP-NOPE", "black"],
        ["V-2", "HP-ECHO", ""],
        ["V-3", "HP-ECHO", "red"],
    )
    problems = problems_of(example, path)
    assert any("row 2" in p and "unknown product model 'HP-NOPE'" in p for p in problems)
    assert any("row 3" in p and "needs a value for its axis 'color'" in p for p in problems)
    assert len(problems) == 2


def test_a_product_sku_cannot_become_a_model(example: Catalogue, workdir: Path) -> None:
    path = write_csv(workdir / "models.csv", ["code", "family"], ["KT-K10", "appliances"])
    assert any("already exists as a product" in p for p in problems_of(example, path))


def test_dry_run_writes_nothing(example: Catalogue, workdir: Path) -> None:
    path = write_csv(workdir / "new.csv", PRODUCT_HEADER, product_row("DRY-1"))
    report = example.import_file(path, dry_run=True)
    assert report.dry_run and report.created == 1
    with pytest.raises(Exception):  # noqa: B017
        example.product("DRY-1")
    assert not any(example.media.root.rglob("*.tmp"))


def test_products_need_a_structure(catalogue: Catalogue, workdir: Path) -> None:
    path = write_csv(workdir / "p.csv", PRODUCT_HEADER, product_row("A-1"))
    assert any("no structure yet" in p for p in problems_of(catalogue, path))


def test_multiline_quoted_cells(example: Catalogue, workdir: Path) -> None:
    path = workdir / "multi.csv"
    path.write_text(
        'sku;description-en_US-ecommerce\nKT-K10;"<p>one;</p>\n<p>two</p>"\nKT-K12;"x"\n',
        encoding="utf-8",
    )
    example.import_file(path)
    desc = example.product("KT-K10").values["description"]
    assert {"locale": "en_US", "scope": "ecommerce", "data": "<p>one;</p>\n<p>two</p>"} in desc
