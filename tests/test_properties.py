"""Property-based: any text in a localized attribute publishes safely on every channel.

Well-formed XML in every feed, the text as text on the landing page and in the kiosk's data,
a PDF that renders with it, and an audit that finds every channel in agreement; on each
database (the examples share one, each example publishing into a folder of its own).
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from pim import Catalogue, publish
from pim.audit import audit
from pim.channels.base import Publication
from pim.values import clean_text

MOMENT = datetime(2026, 12, 1, 10, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "catalogue"
SLOW = settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Any code point (surrogates included: JSON Lines carry them), some of them the hostile ones.
ANY_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(codec=None), max_size=12),
        st.sampled_from(["<", ">", "&", '"', "]]>", "\x03", "\u202e", "\ud800", "😀", "e\u0301"]),
        st.sampled_from(["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&amp;"]),
    ),
    min_size=1,
    max_size=12,
).map("".join)


def _publish(
    db_url: str, media: Path, name: str, description: str, channels: list[str], images: Path
) -> Path:
    """Product PROP-1 named ``name`` in the catalogue, published into a fresh folder."""
    root = Path(tempfile.mkdtemp(prefix="prop-"))
    doc = {
        "identifier": "PROP-1",
        "family": "appliances",
        "categories": ["kitchen"],
        "values": {
            "name": [{"locale": "en_US", "scope": None, "data": name}],
            "description": [{"locale": "en_US", "scope": "ecommerce", "data": description}],
            "price": [
                {"locale": None, "scope": None, "data": [{"amount": "19.99", "currency": "EUR"}]}
            ],
            "availability": [{"locale": None, "scope": None, "data": "in_stock"}],
            "image": [{"locale": None, "scope": None, "data": "images/KT-K10.png"}],
        },
    }
    (root / "images").mkdir()
    (root / "images" / "KT-K10.png").write_bytes((images / "KT-K10.png").read_bytes())
    (root / "p.jsonl").write_text(json.dumps(doc) + "\n", encoding="ascii")  # \ud800 escaped
    with Catalogue.open(db_url, media=media) as cat:
        cat.import_file(EXAMPLE / "structure.yaml")
        cat.import_file(root / "p.jsonl")
        publish(cat, channels, ["en_US"], root / "out", Publication(MOMENT), jobs=1)
    return root / "out"


def _single_line(text: str) -> str:
    return " ".join(clean_text(text).split())


NAME = ANY_TEXT.map(_single_line).filter(lambda name: 0 < len(name) <= 150)
"""Any one-line name the example's structure accepts (``max_characters: 150``: a longer one
is an import error, found by hypothesis at 151)."""


@SLOW
@given(name=NAME, description=ANY_TEXT)
@example(name="0", description="\x1f")  # nothing left once cleaned: an incomplete product
@example(name="Kettle", description=" ")
def test_any_text_publishes_safely(
    name: str, description: str, db_url: str, media_root: Path, example_dir: Path
) -> None:
    out = _publish(
        db_url, media_root, name, description, ["web", "feeds", "kiosk"], example_dir / "images"
    )
    for feed in (out / "feeds" / "en_US").glob("*.xml"):
        etree.fromstring(feed.read_bytes(), etree.XMLParser(recover=False))  # well-formed
    assert audit(out) == []
    if not clean_text(description):  # nothing to store; its family requires one: left out
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        reasons = {(s["channel"], s["reason"]) for s in manifest["skipped"] if s["sku"] == "PROP-1"}
        assert {c for c, r in reasons if r == "incomplete: missing description"} == {
            "web",
            "feeds",
            "kiosk",
        }
        assert not (out / "web/en_US/products/PROP-1.json").exists()
        return
    doc = json.loads((out / "web/en_US/products/PROP-1.json").read_text(encoding="utf-8"))
    page = html.fromstring((out / "web" / doc["page"]).read_bytes())
    assert page.xpath("//h1")[0].text_content() == doc["name"]  # shown as text, not markup
    assert not page.xpath("//@*[starts-with(name(), 'on')]")
    assert all(
        s.get("type") == "application/ld+json" or s.get("src") for s in page.xpath("//script")
    )
    kiosk = (out / "kiosk/store/data/en_US.js").read_text(encoding="utf-8")
    assert "</script" not in kiosk.lower()


@settings(SLOW, max_examples=2)
@given(name=NAME)
def test_any_text_prints(name: str, db_url: str, media_root: Path, example_dir: Path) -> None:
    out = _publish(
        db_url, media_root, name, "<p>Kettle</p>", ["web", "pdf"], example_dir / "images"
    )
    pdf = pypdfium2.PdfDocument(out / "pdf/en_US/catalogue.pdf")
    assert len(pdf) >= 3 and pdf[2].render(scale=1).to_pil().size[0] > 0
    assert audit(out) == []
