"""Personalised campaign codes: generated, stored, checked and redeemed once.

A code is ten random characters and a check character from an alphabet without the
characters people confuse (no 0/O, 1/I/L), shown in groups: ``7KQM-X3PA-R9T``. The check
character makes the weighted sum of the characters' values a multiple of 31 (a prime), so
any one mistyped character and any two neighbours swapped are caught before the database
is asked. Codes are drawn with :mod:`secrets` (about 49 bits each: not guessable).

The shop and the tills redeem a code once: :func:`check_code` says whether it is valid now
and for which campaign, :func:`mark_used` redeems it (atomically: a second redemption is
refused). The recipient's name is personal data: it stays in the database and on the
recipient's own leaflet, never in :func:`codes_csv` nor in any other published file.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from pim.errors import CatalogueImportError, Problem, VitrinaError
from pim.links import Campaign, PersonalCode
from pim.model import campaign_code_table

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""31 characters: digits and capitals without 0, 1, I, L and O."""
RANDOM_LENGTH = 10
GROUP = 4
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class CodeError(VitrinaError):
    """A code cannot be created or redeemed (duplicate recipients, already used…)."""

    exit_code = 2


@dataclass(frozen=True)
class Recipient:
    """Who gets a personalised leaflet: a name, a language, optionally a segment."""

    name: str | None
    language: str | None = None
    segment: str | None = None


@dataclass(frozen=True)
class CampaignCode:
    """A stored code."""

    code: str
    campaign: str
    recipient: str | None
    language: str | None
    segment: str | None
    valid_from: date | None
    valid_until: date | None
    used_at: datetime | None = None
    used_by: str | None = None

    @property
    def display(self) -> str:
        """The code as printed, in groups: ``7KQM-X3PA-R9T``."""
        return display(self.code)


@dataclass(frozen=True)
class CodeCheck:
    """What :func:`check_code` found: ``valid``, else ``reason`` says why not."""

    code: str
    valid: bool
    reason: str | None = None
    """``mistyped`` (the check character does not match), ``unknown``, ``not yet valid``,
    ``expired`` or ``already used``."""
    campaign: str | None = None
    segment: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    used_at: datetime | None = None
    used_by: str | None = None


def normalise(code: str) -> str:
    """The code as stored: upper case, without spaces and hyphens."""
    return "".join(c for c in code.upper() if c not in " -\t")


def display(code: str) -> str:
    """The code in groups of four, as printed."""
    plain = normalise(code)
    return "-".join(plain[i : i + GROUP] for i in range(0, len(plain), GROUP))


def check_character(body: str) -> str:
    """The character that makes ``body`` a valid code."""
    total = sum((i + 1) * _VALUE[c] for i, c in enumerate(body))
    weight = len(body) + 1  # the check character's weight; below 31, so invertible
    return ALPHABET[(-total * pow(weight, -1, len(ALPHABET))) % len(ALPHABET)]


def well_formed(code: str) -> bool:
    """Whether ``code`` could be a code: the right length and alphabet, check character
    matching (no database needed: a shop form or a till can say "mistyped" at once)."""
    plain = normalise(code)
    if len(plain) != RANDOM_LENGTH + 1 or any(c not in _VALUE for c in plain):
        return False
    return check_character(plain[:-1]) == plain[-1]


def new_code() -> str:
    """A fresh random code (not yet stored)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_character(body)


def read_recipients(path: Path, languages: Sequence[str]) -> list[Recipient]:
    """Recipients from a CSV file (``;`` or ``,`` separated, UTF-8): columns ``name``,
    ``language`` (one of ``languages``), optionally ``segment``. Errors name the row."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueImportError([Problem(file, f"cannot read it: {exc}")]) from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("name", "language") if c not in header]
    if missing:
        raise CatalogueImportError(
            [Problem(file, f"missing column {', '.join(missing)} (name;language;segment)", 1)]
        )
    recipients, problems, seen = [], [], set()
    for number, raw in enumerate(reader, 2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        name, language, segment = row["name"], row["language"], row.get("segment") or None
        if not name:
            problems.append(Problem(file, "a recipient needs a name", number, "name"))
        if language not in languages:
            problems.append(
                Problem(
                    file, f"{language!r} is not one of {', '.join(languages)}", number, "language"
                )
            )
        key = (name, language, segment)
        if key in seen:
            problems.append(Problem(file, f"{name!r} is listed twice", number, "name"))
        seen.add(key)
        recipients.append(Recipient(name, language, segment))
    if problems:
        raise CatalogueImportError(problems)
    if not recipients:
        raise CatalogueImportError([Problem(file, "no recipients", 2)])
    return recipients


def create_codes(
    engine: Engine,
    campaign: Campaign,
    recipients: Iterable[Recipient] = (),
    count: int = 0,
) -> list[CampaignCode]:
    """Store one new code per recipient, or ``count`` codes for nobody in particular, valid
    for the campaign's window; all or none. A recipient who already has a code of this
    campaign is refused (:class:`CodeError`), so running it twice makes no duplicates."""
    if not SAFE_NAME.fullmatch(campaign.name):
        raise CodeError(
            f"campaign name {campaign.name!r}: its codes file is published under "
            "campaigns/<name>/, so use letters, digits, '.', '_' and '-'"
        )
    wanted = [*recipients, *(Recipient(None) for _ in range(count))]
    if not wanted:
        raise CodeError("no codes asked for: give recipients or a count")
    t = campaign_code_table.c
    now = datetime.now(UTC)
    with engine.begin() as conn:
        existing = {
            (r.recipient, r.language, r.segment)
            for r in conn.execute(
                select(t.recipient, t.language, t.segment).where(
                    t.campaign == campaign.name, t.recipient.is_not(None)
                )
            )
        }
        again = [r.name for r in wanted if r.name and (r.name, r.language, r.segment) in existing]
        if again:
            raise CodeError(
                f"campaign {campaign.name!r} already has codes for {len(again)} of these "
                f"recipients ({', '.join(again[:3])}{', …' if len(again) > 3 else ''}); "
                "nothing was created"
            )
        codes: set[str] = set()
        while len(codes) < len(wanted):
            fresh = {new_code() for _ in range(len(wanted) - len(codes))} - codes
            taken = set(conn.execute(select(t.code).where(t.code.in_(fresh))).scalars())
            codes |= fresh - taken
        made = [
            CampaignCode(
                code,
                campaign.name,
                r.name,
                r.language,
                r.segment,
                campaign.start,
                campaign.end,
            )
            for code, r in zip(sorted(codes), wanted, strict=True)
        ]
        conn.execute(
            insert(campaign_code_table),
            [
                {
                    "code": c.code,
                    "campaign": c.campaign,
                    "recipient": c.recipient,
                    "language": c.language,
                    "segment": c.segment,
                    "valid_from": c.valid_from,
                    "valid_until": c.valid_until,
                    "created_at": now,
                }
                for c in made
            ],
        )
    return made


def codes(engine: Engine, campaign: str) -> list[CampaignCode]:
    """Every code of a campaign, by code."""
    t = campaign_code_table.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(campaign_code_table).where(t.campaign == campaign).order_by(t.code)
        ).all()
    return [
        CampaignCode(
            r.code,
            r.campaign,
            r.recipient,
            r.language,
            r.segment,
            r.valid_from,
            r.valid_until,
            r.used_at,
            r.used_by,
        )
        for r in rows
    ]


def campaigns_with_codes(engine: Engine) -> list[str]:
    """The campaigns that have codes, by name."""
    t = campaign_code_table.c
    with engine.connect() as conn:
        return list(conn.execute(select(t.campaign).distinct().order_by(t.campaign)).scalars())


def personal_codes(engine: Engine, campaign: str) -> tuple[PersonalCode, ...]:
    """The codes of a campaign's recipients, for personalised print."""
    return tuple(
        PersonalCode(c.code, c.recipient, c.language, c.segment)
        for c in codes(engine, campaign)
        if c.recipient and c.language
    )


def codes_csv(stored: Sequence[CampaignCode]) -> bytes:
    """The codes file for the shop and the tills: code, validity, segment, and nothing
    personal (no name, no language)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["code", "valid_from", "valid_until", "segment"])
    for c in stored:
        writer.writerow(
            [
                c.display,
                c.valid_from.isoformat() if c.valid_from else "",
                c.valid_until.isoformat() if c.valid_until else "",
                c.segment or "",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def check_code(engine: Engine, code: str, today: date | None = None) -> CodeCheck:
    """Whether ``code`` can be redeemed ``today`` (default: today in UTC), and for which
    campaign; a mistyped code is rejected by its check character alone."""
    plain = normalise(code)
    if not well_formed(plain):
        return CodeCheck(plain, False, "mistyped")
    t = campaign_code_table.c
    with engine.connect() as conn:
        row = conn.execute(select(campaign_code_table).where(t.code == plain)).first()
    if row is None:
        return CodeCheck(plain, False, "unknown")
    day = today or datetime.now(UTC).date()
    reason = None
    if row.used_at is not None:
        reason = "already used"
    elif row.valid_from is not None and day < row.valid_from:
        reason = "not yet valid"
    elif row.valid_until is not None and day > row.valid_until:
        reason = "expired"
    return CodeCheck(
        plain,
        reason is None,
        reason,
        row.campaign,
        row.segment,
        row.valid_from,
        row.valid_until,
        row.used_at,
        row.used_by,
    )


def mark_used(
    engine: Engine, code: str, by: str | None = None, at: datetime | None = None
) -> CodeCheck:
    """Redeem ``code`` once; :class:`CodeError` saying why when it cannot be (mistyped,
    unknown, outside its validity, already used: by whom and when)."""
    moment = at or datetime.now(UTC)
    found = check_code(engine, code, moment.date())
    if not found.valid:
        when = f" on {found.used_at:%Y-%m-%d %H:%M}" if found.used_at else ""
        where = f" by {found.used_by}" if found.used_by else ""
        raise CodeError(f"code {display(found.code)}: {found.reason}{when}{where}")
    t = campaign_code_table.c
    with engine.begin() as conn:
        done = conn.execute(
            update(campaign_code_table)
            .where(t.code == found.code, t.used_at.is_(None))
            .values(used_at=moment, used_by=by)
        ).rowcount
    if done != 1:  # redeemed in between, by another till
        raise CodeError(f"code {display(found.code)}: already used")
    return replace(found, used_at=moment, used_by=by)
