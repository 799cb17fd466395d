"""Instructions: a product's ordered steps, warnings and troubleshooting table.

An ``instructions`` attribute stores, per locale like any other value::

    {"steps": [{"text": "…", "image": "<sha256>.png" | None}, …],
     "warnings": ["…", …],
     "troubleshooting": [{"symptom": "…", "cause": "…", "remedy": "…"}, …]}

In a CSV cell (and an Akeneo textarea, where ``\\n`` is a line break) they are written one
item per line, so a spreadsheet can hold them::

    1. Fill the kettle up to the MAX mark.
    2. Press the switch. | files/KT-K10/switch.png
    ! Never immerse the base in water.
    ? It does not heat | The base is not plugged in | Plug it in

A step is a number and a dot, optionally followed by `` | `` and an image path (a
``.jpg``, ``.png``, ``.webp`` or ``.gif`` file); a warning
starts with ``!``; a troubleshooting row starts with ``?`` and has symptom, cause and remedy
separated by ``|``. Pure functions; the importer stores step images like other media.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pim.values import clean_text

_STEP = re.compile(r"^(\d{1,3})[.)]\s+(.*)$")
MAX_ITEMS = 100
"""Steps, warnings and troubleshooting rows of one instructions value, each at most."""
MAX_TEXT = 2000
"""Characters of one step, warning or cell."""
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")


def _text(raw: Any, what: str) -> str:
    if not isinstance(raw, str):
        raise ValueError(f"expected text for {what}, got {type(raw).__name__}")
    text = " ".join(clean_text(raw).split())
    if not text:
        raise ValueError(f"{what} is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} has {len(text)} characters; at most {MAX_TEXT} allowed")
    return text


def parse_instructions(cell: str) -> dict[str, Any]:
    """Instructions from their one-item-per-line text (see the module's docstring)."""
    steps: list[dict[str, Any]] = []
    warnings: list[str] = []
    rows: list[dict[str, str]] = []
    for number, line in enumerate(cell.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        where = f"line {number}"
        step = _STEP.match(line)
        if step is not None:
            text, _, image = step.group(2).rpartition(" | ")
            image = image.strip()
            if not text or not image.lower().endswith(IMAGE_SUFFIXES):
                text, image = step.group(2), ""  # no image: a '|' of the text
            steps.append({"text": _text(text, f"{where} (step)"), "image": image or None})
        elif line.startswith("!"):
            warnings.append(_text(line[1:], f"{where} (warning)"))
        elif line.startswith("?"):
            cells = line[1:].split("|")
            if len(cells) != 3:
                raise ValueError(
                    f"{where}: expected '? symptom | cause | remedy', got {len(cells)} part"
                    f"{'s' if len(cells) != 1 else ''}"
                )
            symptom, cause, remedy = (_text(c, f"{where} (troubleshooting)") for c in cells)
            rows.append({"symptom": symptom, "cause": cause, "remedy": remedy})
        else:
            raise ValueError(
                f"{where}: expected '1. a step', '! a warning' or "
                f"'? symptom | cause | remedy', got {line[:40]!r}"
            )
    return instructions_value({"steps": steps, "warnings": warnings, "troubleshooting": rows})


def instructions_value(raw: Any) -> dict[str, Any]:
    """Instructions checked into their stored shape, from text or from their mapping."""
    if isinstance(raw, str):
        return parse_instructions(raw)
    if not isinstance(raw, dict) or set(raw) - {"steps", "warnings", "troubleshooting"}:
        raise ValueError("expected instructions: steps, warnings and troubleshooting")
    steps = raw.get("steps") or []
    warnings = raw.get("warnings") or []
    rows = raw.get("troubleshooting") or []
    if not all(isinstance(x, list) for x in (steps, warnings, rows)):
        raise ValueError("expected lists of steps, warnings and troubleshooting rows")
    if max(len(steps), len(warnings), len(rows)) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} steps, warnings and troubleshooting rows each")
    if not (steps or warnings or rows):
        raise ValueError("expected at least one step, warning or troubleshooting row")
    value: dict[str, Any] = {"steps": [], "warnings": [], "troubleshooting": []}
    for n, step in enumerate(steps, 1):
        if isinstance(step, str):
            step = {"text": step}
        if not isinstance(step, dict) or "text" not in step or set(step) - {"text", "image"}:
            raise ValueError(f"step {n}: expected text and an optional image")
        image = step.get("image")
        if image is not None and not isinstance(image, str):
            raise ValueError(f"step {n}: expected an image path or none")
        value["steps"].append({"text": _text(step["text"], f"step {n}"), "image": image or None})
    value["warnings"] = [_text(w, f"warning {n}") for n, w in enumerate(warnings, 1)]
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or set(row) != {"symptom", "cause", "remedy"}:
            raise ValueError(f"troubleshooting row {n}: expected symptom, cause and remedy")
        value["troubleshooting"].append(
            {k: _text(row[k], f"troubleshooting row {n} ({k})") for k in row}
        )
    return value


def instructions_text(data: dict[str, Any], images: dict[str, str] | None = None) -> str:
    """The one-item-per-line text of stored instructions (an export's cell); ``images``
    maps a step's media key to the path it is exported under."""
    lines = []
    for n, step in enumerate(data.get("steps", ()), 1):
        image = step.get("image")
        suffix = f" | {(images or {}).get(image, image)}" if image else ""
        lines.append(f"{n}. {step['text']}{suffix}")
    lines += [f"! {w}" for w in data.get("warnings", ())]
    lines += [
        f"? {r['symptom']} | {r['cause']} | {r['remedy']}" for r in data.get("troubleshooting", ())
    ]
    return "\n".join(lines)


def step_images(data: Any) -> list[str]:
    """The image references of stored instructions' steps."""
    if not isinstance(data, dict):
        return []
    return [s["image"] for s in data.get("steps", ()) if s.get("image")]


def with_step_images(data: dict[str, Any], images: Mapping[str, str | None]) -> dict[str, Any]:
    """A copy of stored instructions whose step images are renamed through ``images`` (to
    None: the step loses its image)."""
    steps = [{**s, "image": images.get(s["image"], s["image"])} for s in data.get("steps", ())]
    return {**data, "steps": steps}
