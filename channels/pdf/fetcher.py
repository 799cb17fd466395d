"""The only way WeasyPrint gets a file: from an in-memory set of resources.

Documents are rendered with the base URL ``vitrina://document/``; the fetcher serves the
resources the channel put in the set (stylesheet, fonts, logo, images, QR codes) and refuses
everything else: no network, no ``file://``, no path outside the set. Refused URLs are kept
in :attr:`ResourceFetcher.refused` for the channel to report.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any

from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_URL = "vitrina://document/"


class ResourceFetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher over a dictionary of path → bytes."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("vitrina",), allow_redirects=False)
        self.resources: dict[str, bytes] = {}
        self.refused: list[str] = []
        self.lazy: dict[str, Callable[[], bytes]] = {}
        """Resources made only if the document uses them (QR codes: costly to draw)."""

    def add(self, path: str, data: bytes) -> str:
        """Make ``data`` available at ``path``; returns the path for templates."""
        self.resources[path] = data
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Serve a resource of the set, or refuse."""
        # urljoin leaves relative references alone under an unknown scheme: they arrive
        # as they are written in the template, which is fine, they are only dictionary keys.
        if url.startswith(BASE_URL):
            path: str | None = url.removeprefix(BASE_URL)
        else:
            path = None if ":" in url else url
        data = self.resources.get(path) if path is not None else None
        if data is None and path in self.lazy:
            data = self.resources[path] = self.lazy[path]()
        if data is None:
            self.refused.append(url)
            raise ValueError(f"{url!r} is not one of the document's resources")
        mime = mimetypes.guess_type(path or "")[0] or "application/octet-stream"
        return URLFetcherResponse(url, data, {"Content-Type": mime})
