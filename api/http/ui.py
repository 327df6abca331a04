"""The investigator's page: ``GET /ui`` and its assets, all served from ``api/static``.

Bureau machines are offline, so nothing may come from a CDN; the Content-Security-Policy sent
with every response makes the browser refuse any script, style, image or request that is not
from this server, which turns an accidental external reference into a visible failure instead of
a silent leak of what an investigator looked at. The page talks only to ``/graphql`` with the
user's bearer token, so it sees exactly what the API lets that role see.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response

from api.i18n import LANGS, LangSettings, catalogue
from graph.settings import load_settings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
INDEX_FILE = "index.html"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# Only plain file names directly inside static/: no separators, so no way out of the folder.
_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

router = APIRouter(include_in_schema=False)


def _headers(cache: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache,
    }


@router.get("/ui")
@router.get("/ui/")
def ui_page() -> Response:
    # no-store: the page reads a token from the URL fragment and must not be replayed from cache
    return FileResponse(
        STATIC_DIR / INDEX_FILE, media_type=_MEDIA_TYPES[".html"], headers=_headers("no-store")
    )


@router.get("/ui/messages.json")
def ui_messages() -> Response:
    """The page's texts in every language and the server's default (``MEDFRAUD_LANG``); the page
    keeps a user's own choice in localStorage and sends it with each request as Accept-Language."""
    body = {"default": load_settings(LangSettings).lang, "languages": list(LANGS), "messages": catalogue()}
    return JSONResponse(body, headers=_headers("no-cache"))


@router.get("/ui/static/{asset}")
def ui_asset(asset: str) -> Response:
    path = STATIC_DIR / asset
    media_type = _MEDIA_TYPES.get(path.suffix)
    if not _ASSET_NAME.match(asset) or media_type is None or not path.is_file():
        return Response(status_code=404, content="not found", media_type="text/plain")
    return FileResponse(path, media_type=media_type, headers=_headers("no-cache"))
