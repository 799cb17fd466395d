"""Incremental publishing: what a channel wrote for each product, reused while it is unchanged.

For a channel that sets :attr:`~pim.channels.base.Channel.reuses_outputs`, every publication
records one *output line* per product and job: the product's key and the files and entries
rendering it produced. The key is a hash of the product's view fingerprint, of what the
channel says the product's files also depend on (:meth:`Channel.dependencies`: the other
locales and variants a landing page links to), of the job's context (channel options,
locale, audience, links, campaign, theme) and of the installed code and templates.

The next publication into the same ``OUT`` gives such a product's files back by hard-linking
them from ``OUT`` into its staging folder instead of rendering it again, when the key is the
same and every file still has the checksum it was published with. Anything else renders:
a changed product, a file edited or removed since, new code. So the result is the same as a
full publication, file for file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import orjson

from pim.view import ProductView

CODE_PACKAGES = ("pim", "pim.channels", "pim.templates", "pim.locales")
"""The packages whose files make the output: a change to any of them renders everything."""


@dataclass(frozen=True)
class ProductOutput:
    """What rendering one product produced in one job."""

    sku: str
    key: str
    artifacts: list[dict[str, Any]]
    """The files, as manifest records (path relative to ``OUT``, checksum, size, SKUs) with
    the ``stamp`` of the staged file."""
    entries: list[Any]
    """What the channel put in ``ctx.entries`` for it (for its ``finish``)."""
    notices: list[tuple[str, str]]
    """(field, message) of the notices it recorded."""
    skips: list[str]
    """Reasons the channel gave for leaving it out while rendering."""

    def line(self) -> bytes:
        """The output as one JSON line."""
        return (
            orjson.dumps(
                [self.sku, self.key, self.artifacts, self.entries, self.notices, self.skips]
            )
            + b"\n"
        )


def parse(data: bytes) -> dict[str, ProductOutput]:
    """Output lines (:meth:`ProductOutput.line`) by SKU."""
    outputs = {}
    for raw in data.splitlines():
        sku, key, artifacts, entries, notices, skips = orjson.loads(raw)
        outputs[sku] = ProductOutput(
            sku, key, artifacts, entries, [tuple(n) for n in notices], skips
        )
    return outputs


def _walk(folder: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found = []
    for item in folder.iterdir():
        if item.name == "__pycache__" or item.name.startswith("."):
            continue
        name = f"{prefix}/{item.name}"
        if item.is_dir():
            found += _walk(item, name)
        elif not item.name.endswith((".pyc", ".pyo")):
            found.append((name, item))
    return found


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of every file of the installed code, templates and translations."""
    digest = hashlib.blake2b(digest_size=16)
    for package in CODE_PACKAGES:
        for name, item in sorted(_walk(resources.files(package), package), key=lambda f: f[0]):
            digest.update(name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    return str(value)


def job_key(*context: Any) -> bytes:
    """The part of every product key a job shares: its context and the code."""
    data = orjson.dumps([code_digest(), *context], default=_plain, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).digest()


def product_key(job: bytes, view: ProductView, dependencies: Any) -> str:
    """The key of one product's output in a job."""
    digest = hashlib.blake2b(job, digest_size=16)
    digest.update(view.fingerprint.encode())
    if dependencies is not None:
        digest.update(orjson.dumps(dependencies, default=_plain))
    return digest.hexdigest()


def stamp(path: str | Path) -> list[int]:
    """What tells a published file was not touched since: its size and modification time
    (a hard link keeps both; an edit changes the time)."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


class Restorer:
    """Puts unchanged products' files from ``out_dir`` into ``staging`` (hard links, else
    copies), remembering the folders it made."""

    def __init__(self, out_dir: Path, staging: Path) -> None:
        self.out_dir, self.staging = f"{out_dir}/", f"{staging}/"
        self._folders: set[str] = set()
        self._shared: dict[str, bool] = {}

    def _unchanged(self, record: dict[str, Any]) -> bool:
        """Whether the published file is the one ``record`` describes. A product's own file
        is judged by its stamp; a file several products share (an image, which any job may
        have written last) by its checksum, once."""
        path = self.out_dir + record["path"]
        try:
            if record["skus"]:
                return bool(stamp(path) == record["stamp"])
            known = self._shared.get(path)
            if known is None:
                with open(path, "rb") as fh:
                    digest = hashlib.file_digest(fh, "sha256").hexdigest()
                known = self._shared[path] = digest == record["sha256"]
            return known
        except OSError:
            return False

    def restore(self, output: ProductOutput) -> bool:
        """Put ``output``'s files; False, with nothing put, when one of them is missing or
        was changed since it was published. A file already staged (an image another product
        brought) is left as it is."""
        out_dir, staging = self.out_dir, self.staging
        for record in output.artifacts:
            if not self._unchanged(record):
                return False
        for record in output.artifacts:
            path = record["path"]
            folder = os.path.dirname(path)
            if folder not in self._folders:
                os.makedirs(staging + folder, exist_ok=True)
                self._folders.add(folder)
            try:
                os.link(out_dir + path, staging + path)
            except FileExistsError:
                continue
            except OSError:  # another file system, or links not allowed
                shutil.copy2(out_dir + path, staging + path)
        return True
