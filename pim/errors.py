"""Errors raised by Vitrina.

Every error a user can cause derives from one root, so the CLI catches only these and
prints them without a traceback; anything else is a bug::

    VitrinaError
    ├── CatalogueImportError   bad input file: file, row, column and what was expected
    ├── ConfigError            bad configuration: the key and what was expected
    ├── ResolutionError        a product cannot be resolved for a context
    ├── NotFoundError          an unknown SKU, channel, locale, …
    ├── ChannelError           raised by channel renderers (built-in and plug-ins)
    └── PublishLockedError     another publish into the same folder is running
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class VitrinaError(Exception):
    """Root of every error Vitrina raises on purpose."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the format allows."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    kind: str | None = None
    """For warnings: what kind of problem (``missing media``, ``value at another level``…)."""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class CatalogueImportError(VitrinaError):
    """An import was rejected; nothing was written. ``problems`` lists every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("CatalogueImportError needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        self.file, self.row, self.column = first.file, first.row, first.column
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{first}{suffix}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.problems,))


class ConfigError(VitrinaError):
    """A configuration value is missing or invalid; ``key`` names it."""

    exit_code = 2

    def __init__(self, key: str, message: str, file: str | None = None) -> None:
        self.key, self.message, self.file = key, message, file
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.key, self.message, self.file))


class ResolutionError(VitrinaError):
    """A product cannot be resolved for the requested context."""

    def __init__(self, message: str, sku: str | None = None) -> None:
        self.sku = sku
        """The product that could not be resolved, when one was."""
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (str(self), self.sku))


class NotFoundError(VitrinaError):
    """Something asked for by name does not exist."""


class ChannelError(VitrinaError):
    """A channel failed to render; raised by channel renderers, built-in and plug-ins."""

    def __init__(
        self,
        message: str,
        *,
        channel: str | None = None,
        locale: str | None = None,
        sku: str | None = None,
    ) -> None:
        self.detail, self.channel, self.locale, self.sku = message, channel, locale, sku
        parts = [
            f"{k} {v}" for k, v in (("channel", channel), ("locale", locale), ("sku", sku)) if v
        ]
        prefix = f"{', '.join(parts)}: " if parts else ""
        super().__init__(prefix + message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_channel_error, (self.__class__, self.detail, self.channel, self.locale, self.sku))


def _channel_error(
    cls: type[ChannelError], detail: str, channel: str | None, locale: str | None, sku: str | None
) -> ChannelError:
    return cls(detail, channel=channel, locale=locale, sku=sku)


class PublishLockedError(VitrinaError):
    """Another publication into the same folder is running."""

    exit_code = 3
