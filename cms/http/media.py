"""/media/{key}: stored uploads, with long-lived cache headers.

Keys never change meaning (a new upload gets a new key), so responses are immutable.
A strict Content-Security-Policy keeps an uploaded SVG or HTML file from running scripts
on this origin.
"""

from __future__ import annotations

import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["MEDIA_HEADERS", "MediaFiles"]

MEDIA_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
}


class MediaFiles(StaticFiles):
    def __init__(self, directory: str) -> None:
        super().__init__(directory=directory, check_dir=False, follow_symlink=False)

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
        status_code: int = 200,
    ) -> Response:  # fmt: skip
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(MEDIA_HEADERS)
        return response
