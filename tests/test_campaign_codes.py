"""Personalised campaign codes: generated unique, checked by their check character, stored,
redeemed once, published for the shop without personal data."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pim import Catalogue, CatalogueImportError, publish
from pim.campaigns import (
    ALPHABET,
    CodeError,
    Recipient,
    check_code,
    codes,
    create_codes,
    display,
    mark_used,
    new_code,
    read_recipients,
    well_formed,
)
from pim.channels.base import Publication
from pim.cli import app
from pim.links import Campaign

WINTER = Campaign("winter", date(2026, 11, 20), date(2027, 1, 6))
NAMES = ["Zofia Nowak-Kowalska", "Пётр Иванов", "Ada Lovelace"]
runner = CliRunner()


def _recipients(path: Path) -> Path:
    rows = [
        "name;language;segment",
        f"{NAMES[0]};pl_PL;loyal",
        f"{NAMES[1]};bg_BG;",
        f"{NAMES[2]};en_US;new",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_code_is_typeable_and_its_check_character_catches_typos() -> None:
    for _ in range(50):
        code = new_code()
        assert len(code) == 11 and set(code) <= set(ALPHABET)
        assert not set(code) & set("01IOL")
        assert well_formed(code) and well_formed(display(code).lower())
        for i, original in enumerate(code):  # every single character mistyped
            for other in ALPHABET.replace(original, ""):
                assert not well_formed(code[:i] + other + code[i + 1 :]), (code, i, other)
        for i in range(len(code) - 1):  # every two neighbours swapped
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert not well_formed(swapped), (code, i)
    assert len({new_code() for _ in range(2000)}) == 2000


def test_codes_for_recipients_are_stored_unique_and_not_made_twice(
    example: Catalogue, tmp_path: Path
) -> None:
    people = read_recipients(_recipients(tmp_path / "r.csv"), list(example.structure.locales))
    assert people[1] == Recipient(NAMES[1], "bg_BG", None)
    made = create_codes(example.engine, WINTER, people)
    assert [c.recipient for c in made] == NAMES
    assert len({c.code for c in made}) == 3
    assert all(c.valid_from == WINTER.start and c.valid_until == WINTER.end for c in made)
    with pytest.raises(CodeError, match="already has codes for 3 of these recipients"):
        create_codes(example.engine, WINTER, people)
    assert len(codes(example.engine, "winter")) == 3  # nothing more was written
    create_codes(example.engine, WINTER, count=5)
    assert len(codes(example.engine, "winter")) == 8


def test_a_recipients_file_with_errors_names_the_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name;language\nAda;en_US\n;de_DE\nBob;xx_XX\nAda;en_US\n", encoding="utf-8")
    with pytest.raises(CatalogueImportError) as caught:
        read_recipients(bad, ["en_US", "de_DE"])
    problems = [(p.row, p.column) for p in caught.value.problems]
    assert problems == [(3, "name"), (4, "language"), (5, "name")]
    assert "bad.csv, row 3, column 'name'" in str(caught.value)


def test_codes_are_checked_and_redeemed_once(example: Catalogue) -> None:
    (code,) = [c.code for c in create_codes(example.engine, WINTER, count=1)]
    found = check_code(example.engine, display(code), today=date(2026, 12, 1))
    assert found.valid and found.campaign == "winter" and found.valid_until == WINTER.end
    assert check_code(example.engine, code, today=date(2026, 11, 1)).reason == "not yet valid"
    assert check_code(example.engine, code, today=date(2027, 2, 1)).reason == "expired"
    typo = code[:3] + ALPHABET[(ALPHABET.index(code[3]) + 1) % 31] + code[4:]
    assert check_code(example.engine, typo).reason == "mistyped"
    unknown = new_code()
    assert check_code(example.engine, unknown).reason == "unknown"
    at = datetime(2026, 12, 2, 15, tzinfo=UTC)
    done = mark_used(example.engine, code, by="till 3", at=at)
    assert done.used_by == "till 3"
    with pytest.raises(CodeError, match="already used on 2026-12-02 15:00 by till 3"):
        mark_used(example.engine, code, at=at)
    assert check_code(example.engine, code, today=date(2026, 12, 3)).reason == "already used"


def test_the_codes_file_is_published_without_personal_data(
    example: Catalogue, tmp_path: Path
) -> None:
    people = read_recipients(_recipients(tmp_path / "r.csv"), list(example.structure.locales))
    made = create_codes(example.engine, WINTER, people)
    out = tmp_path / "out"
    manifest = publish(
        example,
        ["web", "feeds", "kiosk"],
        ["pl_PL", "en_US"],
        out,
        Publication(datetime(2026, 12, 1, tzinfo=UTC), campaign=WINTER),
        jobs=1,
    )
    path = out / "campaigns/winter/codes.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert [r["code"] for r in rows] == sorted(c.display for c in made)
    assert {r["segment"] for r in rows} == {"loyal", "", "new"}
    assert rows[0]["valid_until"] == "2027-01-06"
    assert "campaigns/winter/codes.csv" in {a["path"] for a in manifest["artifacts"]}
    for file in out.rglob("*"):  # no recipient's name in any published file
        if file.is_file():
            data = file.read_bytes()
            for name in NAMES:
                assert name.encode() not in data, (name, file)
                assert name.split()[-1].encode() not in data, (name, file)


def test_the_command_line_creates_checks_and_redeems_codes(
    winter_cli: list[str], db_url: str, media_root: Path, tmp_path: Path
) -> None:
    options = winter_cli
    recipients = _recipients(tmp_path / "r.csv")
    result = runner.invoke(
        app, [*options, "campaign", "codes", "winter", "--recipients", str(recipients)]
    )
    assert result.exit_code == 0, result.stderr
    assert "Created 3 codes for campaign winter" in result.stdout
    again = runner.invoke(
        app, [*options, "campaign", "codes", "winter", "--recipients", str(recipients)]
    )
    assert again.exit_code == 2 and "already has codes" in again.stderr
    with Catalogue.open(db_url, media=media_root) as cat:
        code = codes(cat.engine, "winter")[0].display
    checked = runner.invoke(app, [*options, "campaign", "check", code])
    assert checked.exit_code == 0 and "valid, campaign winter" in checked.stdout
    assert (
        runner.invoke(app, [*options, "campaign", "redeem", code, "--by", "till 1"]).exit_code == 0
    )
    twice = runner.invoke(app, [*options, "campaign", "redeem", code])
    assert twice.exit_code == 2 and "already used" in twice.stderr
    assert runner.invoke(app, [*options, "campaign", "check", code]).exit_code == 1
    missing = runner.invoke(app, [*options, "campaign", "codes", "summer", "--count", "2"])
    assert missing.exit_code == 2 and "campaigns.summer" in missing.stderr
