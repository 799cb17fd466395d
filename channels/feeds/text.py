"""Text for XML feeds: only characters XML 1.0 allows, cut to a limit on a word boundary."""

from __future__ import annotations

import re
import unicodedata

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 forbids: C0 controls but tab and newlines, lone surrogates, U+FFFE/F."""

_JOINERS = {"\u200d", "\u034f"}
ELLIPSIS = "…"


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 does not allow (every one of which, controls,
    lone surrogates and U+FFFE/F, is unprintable: a printable text is kept as it is)."""
    return text if text.isprintable() else _NOT_XML.sub("", text)


def _cuttable(text: str, at: int) -> bool:
    """Whether ``text[:at]`` ends between two user-perceived characters."""
    if at <= 0 or at >= len(text):
        return True
    after, before = text[at], text[at - 1]
    return not (
        unicodedata.combining(after)
        or after in _JOINERS
        or before in _JOINERS
        or "\ufe00" <= after <= "\ufe0f"  # variation selectors
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tones
    )


def truncate(text: str, limit: int) -> str:
    """``text`` if it fits ``limit`` characters; else cut on the last word boundary that
    leaves room for an ellipsis (or, in one long word, between two characters, never inside
    one with its combining marks), with ``…`` appended."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    head = text[: room + 1]
    space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    if space >= room // 2:
        return head[:space].rstrip() + ELLIPSIS
    cut = room
    while cut > 0 and not _cuttable(text, cut):
        cut -= 1
    return text[:cut] + ELLIPSIS
