"""Resolution to ProductView: fallbacks, prices, sale windows, audiences, variants, completeness."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slugify import slugify

from pim import Catalogue, ProductRecord, ResolutionContext, ResolutionError, Structure
from pim.resolve import SLUG_LENGTH, Resolver, name_slug, resolve_product
from pim.view import Shown

STRUCTURE = Structure.model_validate(
    {
        "default_locale": "en_US",
        "locales": {
            "en_US": {},
            "de_DE": {"fallback": ["en_US"]},
            "de_AT": {"fallback": ["de_DE", "en_US"]},
            "bg_BG": {"fallback": ["en_US"]},
        },
        "attributes": {
            "name": {"type": "text", "localizable": True, "labels": {"en_US": "Name"}},
            "description": {"type": "textarea", "localizable": True, "wysiwyg": True},
            "price": {"type": "price"},
            "sale_price": {"type": "price"},
            "sale_start": {"type": "date"},
            "sale_end": {"type": "date"},
            "availability": {
                "type": "simpleselect",
                "options": [
                    {"code": "in_stock", "labels": {"en_US": "In stock", "de_DE": "Auf Lager"}}
                ],
            },
            "image": {"type": "image"},
            "weight": {"type": "metric", "default_unit": "kg"},
            "depth": {"type": "metric", "default_unit": "mm", "labels": {"bg_BG": "Дълбочина"}},
            "voltage": {"type": "metric", "default_unit": "V", "audiences": ["technician"]},
            "color": {
                "type": "simpleselect",
                "options": [{"code": "red", "labels": {"en_US": "Red", "de_DE": "Rot"}}],
            },
            "tagline": {"type": "text", "scopable": True},
        },
        "families": {
            "things": {
                "attributes": [
                    "name",
                    "description",
                    "price",
                    "sale_price",
                    "sale_start",
                    "sale_end",
                    "availability",
                    "image",
                    "weight",
                    "depth",
                    "voltage",
                    "color",
                    "tagline",
                ],
                "requirements": {"web": ["name", "price"]},
                "variant_axes": ["color"],
            }
        },
        "categories": {
            "root": {},
            "kitchen": {"parent": "root", "labels": {"de_DE": "Küche"}},
            "other": {},
        },
        "channels": {
            "web": {
                "locales": ["en_US", "de_DE", "de_AT", "bg_BG"],
                "category_tree": "root",
                "currencies": {"bg_BG": "BGN", "*": "EUR"},
                "timezone": "Europe/Sofia",
            },
            "print": {"locales": ["en_US"], "category_tree": "root", "currencies": {"*": "EUR"}},
        },
        "roles": {"brand": None, "gtin": None},
    }
)


def v(data: object, locale: str | None = None, scope: str | None = None) -> dict[str, object]:
    return {"locale": locale, "scope": scope, "data": data}


PRODUCT = ProductRecord(
    sku="T-1",
    family="things",
    categories=["kitchen", "other"],
    values={
        "name": [v("Kettle", "en_US"), v("Wasserkocher", "de_DE")],
        "description": [
            v('<p onclick="x()">Boils <script>alert(1)</script><b>fast</b></p>', "en_US")
        ],
        "price": [
            v([{"amount": "1299.00", "currency": "BGN"}, {"amount": "49.90", "currency": "EUR"}])
        ],
        "sale_price": [v([{"amount": "39.90", "currency": "EUR"}])],
        "sale_start": [v("2026-12-01")],
        "sale_end": [v("2026-12-31")],
        "availability": [v("in_stock")],
        "depth": [v({"amount": "450.5", "unit": "mm"})],
        "voltage": [v({"amount": "230", "unit": "V"})],
        "tagline": [v("Online only", scope="web"), v("In print", scope="print")],
    },
)


def ctx(
    locale: str = "en_US",
    channel: str = "web",
    audience: str | None = None,
    moment: datetime | None = None,
) -> ResolutionContext:
    return ResolutionContext(
        channel, locale, audience, moment or datetime(2026, 11, 24, 12, tzinfo=UTC)
    )


def test_fallback_chains_and_sources() -> None:
    at = resolve_product(PRODUCT, STRUCTURE, ctx("de_AT"))
    assert at.name == "Wasserkocher" and at.sources["name"] == "de_DE"
    bg = resolve_product(PRODUCT, STRUCTURE, ctx("bg_BG"))
    assert bg.name == "Kettle" and bg.fallbacks == {"name": "en_US", "description": "en_US"}
    assert STRUCTURE.fallback_chain("de_AT") == ("de_AT", "de_DE", "en_US")


def test_prices_are_formatted_for_the_locale() -> None:
    bg = resolve_product(PRODUCT, STRUCTURE, ctx("bg_BG"))
    assert bg.price is not None
    assert (bg.price.amount, bg.price.currency) == (Decimal("1299.00"), "BGN")
    assert bg.price.formatted == "1\u00a0299,00\u00a0лв."
    de = resolve_product(PRODUCT, STRUCTURE, ctx("de_DE"))
    assert de.price is not None and de.price.formatted == "49,90\u00a0€"
    assert resolve_product(PRODUCT, STRUCTURE, ctx("en_US")).price.formatted == "€49.90"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("moment", "on_sale"),
    [
        (datetime(2026, 11, 30, 21, 59, tzinfo=UTC), False),  # 23:59 in Sofia, the day before
        (datetime(2026, 11, 30, 22, 0, tzinfo=UTC), True),  # midnight in Sofia: the sale starts
        (datetime(2026, 12, 31, 21, 59, tzinfo=UTC), True),
        (datetime(2026, 12, 31, 22, 0, tzinfo=UTC), False),
    ],
)
def test_sale_window_applies_at_the_moment_in_the_channels_time_zone(
    moment: datetime, on_sale: bool
) -> None:
    view = resolve_product(PRODUCT, STRUCTURE, ctx("de_DE", moment=moment))
    assert (view.sale is not None) is on_sale
    assert view.current_price is not None
    assert view.current_price.amount == (Decimal("39.90") if on_sale else Decimal("49.90"))
    if view.sale:
        assert view.sale.validity == "1.–31. Dez. 2026"


def test_a_sale_without_price_in_the_currency_is_not_shown() -> None:
    view = resolve_product(
        PRODUCT, STRUCTURE, ctx("bg_BG", moment=datetime(2026, 12, 5, tzinfo=UTC))
    )
    assert view.sale is None and view.price is not None and view.price.currency == "BGN"


def test_audience_limits_attributes() -> None:
    customer = resolve_product(PRODUCT, STRUCTURE, ctx())
    technician = resolve_product(PRODUCT, STRUCTURE, ctx(audience="technician"))
    assert customer.attribute("voltage") is None
    voltage = technician.attribute("voltage")
    assert voltage is not None and voltage.formatted == "230 V" and voltage.unit == "V"


def test_units_and_labels_in_the_locale() -> None:
    depth = resolve_product(PRODUCT, STRUCTURE, ctx("bg_BG")).attribute("depth")
    assert depth is not None and (depth.label, depth.formatted) == ("Дълбочина", "450,5 mm")


def test_scopable_values_follow_the_channel() -> None:
    assert resolve_product(PRODUCT, STRUCTURE, ctx()).attribute("tagline").formatted == (  # type: ignore[union-attr]
        "Online only"
    )
    assert (
        resolve_product(PRODUCT, STRUCTURE, ctx(channel="print"))
        .attribute(  # type: ignore[union-attr]
            "tagline"
        )
        .formatted
        == "In print"
    )


def test_rich_text_is_sanitised() -> None:
    view = resolve_product(PRODUCT, STRUCTURE, ctx())
    assert view.description_html == "<p>Boils <b>fast</b></p>"
    assert view.description_text == "Boils fast"


def test_plain_text_of_rich_text_keeps_its_blocks_apart() -> None:
    """List items, paragraphs and headings end as sentences in the plain text (feeds,
    kiosk and JSON show it): without that, "Steam wand" and "Cup warmer" read as one."""
    from pim.resolve import html_to_text, sanitize_html

    html = (
        "<h3>Features</h3><p>Brews fast. Quiet</p><ul><li>Steam wand</li>"
        "<li>Cup warmer!</li><li>Tank&nbsp;1.2 l</li></ul><p><b>Two</b>-year warranty</p>"
    )
    assert html_to_text(sanitize_html(html)) == (
        "Features. Brews fast. Quiet. Steam wand. Cup warmer! Tank 1.2 l. Two-year warranty"
    )
    assert html_to_text(sanitize_html("<ul><li>Only item</li></ul>")) == "Only item"
    assert html_to_text("<p> </p><p>x &lt; y</p>") == "x < y"
    assert html_to_text(sanitize_html("<ul><li>Kettle<ul><li>lid</li></ul></li></ul>")) == (
        "Kettle. lid"
    )
    table = "<table><tr><th>Power</th><td>2 kW</td></tr><tr><td>1<br>2</td></tr></table>"
    assert html_to_text(sanitize_html(table)) == "Power 2 kW. 1 2"


def test_categories_of_the_channels_tree_only() -> None:
    de = resolve_product(PRODUCT, STRUCTURE, ctx("de_DE"))
    assert [c.codes for c in de.categories] == [("root", "kitchen")]
    assert de.categories[0].label == "Küche"


def test_variants_inherit_and_override() -> None:
    model = ProductRecord(
        sku="M-1", kind="model", family="things", categories=["kitchen"], values=PRODUCT.values
    )
    variant = ProductRecord(
        sku="M-1-RED",
        parent="M-1",
        values={"color": [v("red")], "price": [v([{"amount": "59.90", "currency": "EUR"}])]},
    )
    view = resolve_product(variant, STRUCTURE, ctx("de_DE"), ancestors=[model])
    assert view.name == "Wasserkocher" and view.group == "M-1" and view.family == "things"
    assert view.price is not None and view.price.amount == Decimal("59.90")
    assert [(a.code, a.formatted) for a in view.axes] == [("color", "Rot")]
    assert [c.code for c in view.categories] == ["kitchen"]


def test_completeness() -> None:
    incomplete = ProductRecord(
        sku="T-2", family="things", values={"name": [v("Only a name", "en_US")]}
    )
    view = resolve_product(incomplete, STRUCTURE, ctx("de_DE"))
    assert not view.complete and view.missing == ("price",)
    assert resolve_product(PRODUCT, STRUCTURE, ctx("bg_BG")).complete


def test_views_are_immutable() -> None:
    view = resolve_product(PRODUCT, STRUCTURE, ctx())
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.name = "changed"  # type: ignore[misc]


def test_a_view_resolved_for_what_a_channel_shows_leaves_out_the_rest() -> None:
    full = Resolver(STRUCTURE, ctx(), fingerprints=True).resolve(PRODUCT)
    shown = Shown(frozenset({"depth"}), support=False)
    less = Resolver(STRUCTURE, ctx(), fingerprints=True, shown=shown).resolve(PRODUCT)
    assert [a.code for a in full.attributes] == ["depth", "tagline"]
    assert [a.code for a in less.attributes] == ["depth"] and less.support is None
    assert less.attribute("depth") == full.attribute("depth")
    same = ("name", "description_text", "price", "sale", "availability", "weight", "categories")
    assert all(getattr(less, f) == getattr(full, f) for f in same)
    assert less.fingerprint != full.fingerprint  # it shows less


def test_slug_is_transliterated() -> None:
    record = ProductRecord(
        sku="RU-1", family="things", values={"name": [v("Беспроводной пылесос", "en_US")]}
    )
    assert resolve_product(record, STRUCTURE, ctx()).slug == "besprovodnoi-pylesos"


ASCII_NAMES = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=120)
NAME_LIKE = st.lists(
    st.sampled_from(["Akku", "Staubsauger", "V11", "(de_DE)", "1,5", "l", "&amp;", "'", "  ", "-"]),
    max_size=30,
).map(" ".join)


@given(st.one_of(ASCII_NAMES, NAME_LIKE))
@settings(max_examples=500, deadline=None)
def test_a_name_slugs_as_python_slugify_slugs_it(name: str) -> None:
    """The short way for plain ASCII names gives python-slugify's slug, cut included."""
    assert name_slug(name) == slugify(name, max_length=SLUG_LENGTH, word_boundary=True)


def test_unknown_context_is_a_clear_error() -> None:
    with pytest.raises(ResolutionError, match="unknown locale 'fr_FR'"):
        Resolver(STRUCTURE, ctx("fr_FR"))
    with pytest.raises(ResolutionError, match="unknown channel 'moon'"):
        Resolver(STRUCTURE, ctx(channel="moon"))
    with pytest.raises(ResolutionError, match="unknown audience 'robots'"):
        Resolver(STRUCTURE, ctx(audience="robots"))


# -- through the example catalogue, on each backend ----------------------------------------


def test_example_views_stream_in_batches(example: Catalogue) -> None:
    views = list(example.views("ecommerce", "pl_PL", batch_size=7))
    assert len(views) == example.count() >= 60
    assert [x.sku for x in views] == sorted(x.sku for x in views)
    echo = next(x for x in views if x.sku == "HP-ECHO-RED")
    assert echo.group == "HP-ECHO" and echo.price is not None and echo.price.currency == "PLN"
    assert echo.images and echo.images[0].derivative("thumb").width == 240
    assert example.media.path_for(echo.images[0].key).is_file()
    assert example.media.derivative_path(echo.images[0].key, "thumb", "jpg").is_file()


def test_example_fallbacks_and_sale(example: Catalogue) -> None:
    moment = datetime(2026, 12, 1, 12, tzinfo=UTC)
    kettle = example.resolve("KT-K20", "ecommerce", "bg_BG", moment=moment)
    assert kettle.sources["name"] == "en_US" and kettle.name.startswith("Electric Kettle")
    sale = example.resolve("KT-K17", "ecommerce", "de_DE", moment=moment)
    assert sale.sale is not None and sale.sale.price.formatted.endswith("€")
    later = example.resolve("KT-K17", "ecommerce", "de_DE", moment=datetime(2027, 2, 1, tzinfo=UTC))
    assert later.sale is None


def test_example_completeness_reports_the_incomplete(example: Catalogue) -> None:
    reports = {(r.channel, r.locale): r for r in example.completeness()}
    web = reports[("ecommerce", "en_US")]
    assert ("VC-V5", ("description",)) in web.incomplete
    assert reports[("print", "en_US")].complete == reports[("print", "en_US")].total
    assert reports[("ecommerce", "bg_BG")].fallbacks > 0
