"""Structure files: validation naming the key, merging by code, broken references."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pim import Catalogue, CatalogueImportError


def write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def problems(cat: Catalogue, path: Path) -> list[tuple[str | None, str]]:
    with pytest.raises(CatalogueImportError) as info:
        cat.import_file(path)
    return [(p.column, p.message) for p in info.value.problems]


def test_structure_imports_and_merges(example: Catalogue, tmp_path: Path) -> None:
    before = example.structure
    extra = write(
        tmp_path / "more.yaml",
        {
            "locales": {"de_AT": {"fallback": ["de_DE", "en_US"]}},
            "attributes": {"name": {"type": "text", "localizable": True, "max_characters": 200}},
        },
    )
    report = example.import_file(extra)
    assert report.sections["locales"] == 1
    after = example.structure
    assert after.fallback_chain("de_AT") == ("de_AT", "de_DE", "en_US")
    assert after.attributes["name"].max_characters == 200
    assert list(after.attributes) == list(before.attributes)  # order kept on update
    assert after.families == before.families


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"attributes": {"x": {"type": "colour"}}}, "attributes.x.type", "Input should be"),
        (
            {"attributes": {"x": {"type": "text", "localisable": True}}},
            "attributes.x.localisable",
            "Extra inputs are not permitted",
        ),
        (
            {"families": {"f": {"attributes": ["nope"]}}},
            "families.f.attributes",
            "unknown attribute 'nope'",
        ),
        (
            {"categories": {"a": {"parent": "b"}, "b": {"parent": "a"}}},
            "categories.a.parent",
            "the parents form a cycle",
        ),
        (
            {
                "channels": {
                    "c": {"locales": ["en_US"], "currencies": {}, "category_tree": "master"}
                }
            },
            "channels.c.currencies",
            "no currency for locale 'en_US'",
        ),
        (
            {
                "channels": {
                    "c": {
                        "locales": ["fr_FR"],
                        "currencies": {"*": "EUR"},
                        "category_tree": "kitchen",
                    }
                }
            },
            "channels.c.locales",
            "unknown locale 'fr_FR'",
        ),
        ({"locales": {"english": {}}}, "locales.english.code", "String should match pattern"),
        (
            {"attributes": {"w": {"type": "metric", "default_unit": "furlong"}}},
            "attributes.w.units",
            "unknown unit 'furlong'",
        ),
        ({"roles": {"name": "title"}}, "roles.name", "unknown attribute 'title'"),
    ],
)
def test_structure_problems_name_the_key(
    example: Catalogue, tmp_path: Path, data: object, key: str, message: str
) -> None:
    found = problems(example, write(tmp_path / "bad.yaml", data))
    assert any(k == key and message in m for k, m in found), found


def test_broken_yaml_names_the_line(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("locales:\n  en_US: {}\n attributes: [\n", encoding="utf-8")
    with pytest.raises(CatalogueImportError) as info:
        catalogue.import_file(path)
    assert info.value.row == 3 and "not valid YAML" in str(info.value)


def test_failed_structure_import_changes_nothing(example: Catalogue, tmp_path: Path) -> None:
    before = example.structure
    path = write(
        tmp_path / "half.yaml",
        {"locales": {"fr_FR": {}}, "families": {"f": {"attributes": ["nope"]}}},
    )
    problems(example, path)
    example._structure = None  # force a reload from the database
    assert example.structure == before
