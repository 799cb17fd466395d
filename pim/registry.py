"""Channel discovery: the entry-point group ``vitrina.channels``, built-ins included."""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pim.channels.base import Channel
from pim.errors import ChannelError, ConfigError

GROUP = "vitrina.channels"


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        other = found.get(ep.name)
        if other is not None and other.value != ep.value:
            raise ChannelError(
                f"channel {ep.name!r} is registered twice: {other.value} and "
                f"{ep.value}; uninstall one of them"
            )
        found[ep.name] = ep
    return found


def channel_names() -> list[str]:
    """Names of the installed channels, sorted."""
    return sorted(_entry_points())


def load_channel(name: str) -> type[Channel[Any]]:
    """The channel class registered as ``name``."""
    ep = _entry_points().get(name)
    if ep is None:
        raise ConfigError(
            "channel",
            f"unknown channel {name!r}; installed: {', '.join(channel_names()) or 'none'}",
        )
    try:
        cls = ep.load()
    except Exception as exc:  # a broken plug-in must not take the CLI down with a traceback
        raise ChannelError(
            f"cannot load channel {name!r} ({ep.value}): {exc.__class__.__name__}: {exc}"
        ) from None
    return _checked(cls, name, ep.value)


def import_channel(path: str) -> type[Channel[Any]]:
    """A channel class from ``module:QualName`` (how jobs name it in worker processes)."""
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return _checked(obj, getattr(obj, "name", path), path)


def class_path(cls: type[Channel[Any]]) -> str:
    """``module:QualName`` of a channel class."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _checked(cls: Any, name: str, where: str) -> type[Channel[Any]]:
    if not (isinstance(cls, type) and issubclass(cls, Channel)):
        raise ChannelError(
            f"{where} (channel {name!r}) is not a subclass of pim.channels.base.Channel"
        )
    if getattr(cls, "name", None) != name and name != where:
        raise ChannelError(
            f"{where} is registered as {name!r} but its name is {getattr(cls, 'name', None)!r}"
        )
    return cls
