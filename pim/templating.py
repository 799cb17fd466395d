"""Jinja environments for the channels, reading ``pim.templates`` with importlib.resources.

Templates live in ``templates/<channel>/`` and share ``templates/theme/`` (colours, fonts,
logo, the product card), so the landing page, the kiosk and the brochure look like one brand.
Autoescaping is always on; undefined names are errors; templates cannot read files or make
requests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateNotFound
from markupsafe import Markup

from pim.i18n import gettext_for, ngettext_for


class ResourceLoader(BaseLoader):
    """Loads ``<channel>/<name>.html`` from the ``pim.templates`` package (wheel or editable)."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        parts = [p for p in template.split("/") if p]
        if not parts or any(p in (".", "..") or "\\" in p for p in parts):
            raise TemplateNotFound(template)
        node = resources.files("pim.templates").joinpath(*parts)
        if not node.is_file():
            raise TemplateNotFound(template)
        return node.read_text(encoding="utf-8"), None, lambda: True


def json_script(data: Any) -> Markup:
    """JSON safe to embed in ``<script type="application/ld+json">``."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


@lru_cache(maxsize=8)
def environment() -> Environment:
    """The shared, autoescaping template environment."""
    env = Environment(
        loader=ResourceLoader(),
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["json_script"] = json_script
    # ``{% trans %}`` passes its variables to gettext/ngettext, which format them.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    return env


def render(template: str, locale: str, /, **context: Any) -> str:
    """Render ``template`` with Vitrina's strings translated into ``locale``."""
    return _render(environment().get_template(template), locale, context)


def render_string(source: str, locale: str, /, **context: Any) -> str:
    """:func:`render` for a template given as text (same environment and translations)."""
    return _render(environment().from_string(source), locale, context)


def _render(tpl: Template, locale: str, context: dict[str, Any]) -> str:
    def gettext(message: str, **values: Any) -> str:
        text = gettext_for(locale, message)
        return text % values if values else text

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
        return ngettext_for(locale, singular, plural, n) % {"num": n, **values}

    # ``{% trans %}`` blocks and ``_()``/``ngettext()`` calls use the same functions.
    return tpl.render(_=gettext, gettext=gettext, ngettext=ngettext, **context)
