"""Vitrina: one product catalogue, published consistently to every channel.

>>> from pim import Catalogue
>>> cat = Catalogue.open("shop.db")            # doctest: +SKIP
>>> for view in cat.views("ecommerce", "de_DE"):  # doctest: +SKIP
...     print(view.sku, view.name, view.current_price.formatted)
"""

from __future__ import annotations

from pim.catalogue import Catalogue, CompletenessReport
from pim.errors import (
    CatalogueImportError,
    ChannelError,
    ConfigError,
    NotFoundError,
    Problem,
    ResolutionError,
    VitrinaError,
)
from pim.importer import ImportReport
from pim.publishing import publish
from pim.records import ProductRecord
from pim.resolve import Resolver, resolve_product
from pim.structure import Structure
from pim.view import (
    AttributeValue,
    Availability,
    CategoryPath,
    ImageView,
    Money,
    ProductView,
    ResolutionContext,
    SalePrice,
)

__version__ = "0.1.0"

__all__ = [
    "AttributeValue",
    "Availability",
    "Catalogue",
    "CatalogueImportError",
    "CategoryPath",
    "ChannelError",
    "CompletenessReport",
    "ConfigError",
    "ImageView",
    "ImportReport",
    "Money",
    "NotFoundError",
    "Problem",
    "ProductRecord",
    "ProductView",
    "ResolutionContext",
    "ResolutionError",
    "Resolver",
    "SalePrice",
    "Structure",
    "VitrinaError",
    "__version__",
    "publish",
    "resolve_product",
]
