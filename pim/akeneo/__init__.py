"""Akeneo PIM: import a whole catalogue from its standard CSV exports, export it back.

>>> from pim.akeneo import import_akeneo, export_akeneo          # doctest: +SKIP
>>> report = import_akeneo(catalogue, Path("akeneo-export/"))    # doctest: +SKIP
>>> export_akeneo(catalogue, Path("back-to-akeneo/"))            # doctest: +SKIP
"""

from pim.akeneo.exporter import AkeneoExportReport, export_akeneo
from pim.akeneo.importer import AkeneoImportReport, import_akeneo

__all__ = ["AkeneoExportReport", "AkeneoImportReport", "export_akeneo", "import_akeneo"]
