"""A CJK font for the dossier, embedded in the PDF so it reads the same on any machine.

``MEDFRAUD_DOSSIER_FONT`` names a TrueType file (``.ttf``, or ``.ttc`` with ``#index``); without it
the first of :data:`CANDIDATES` that exists is used (Debian: ``fonts-wqy-zenhei``). reportlab
embeds TrueType outlines only (not the CFF ones of Noto CJK's ``.otf``/``.ttc``). Without any,
the dossier falls back to Adobe's STSong-Light CID font, which viewers supply themselves: the text
is still Chinese, but its look depends on the reader's viewer, so the fallback is logged.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

from graph.settings import load_settings

log = logging.getLogger("medfraud.dossier")

FONT_NAME = "MedfraudCJK"
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc#0",
    "/usr/share/fonts/truetype/arphic/uming.ttc#0",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FALLBACK_CID = "STSong-Light"


class DossierSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDFRAUD_DOSSIER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    font: str | None = None  # a .ttf, or a .ttc with "#index"


def _split(spec: str) -> tuple[Path, int]:
    path, _, index = spec.partition("#")
    return Path(path), int(index or 0)


@functools.cache
def cjk_font() -> str:
    """The registered font name to write Chinese with (registered once per process)."""
    configured = load_settings(DossierSettings).font
    for spec in [configured] if configured else list(CANDIDATES):
        path, index = _split(spec)
        if not path.is_file():
            if configured:
                log.warning("MEDFRAUD_DOSSIER_FONT %s does not exist", path)
            continue
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=index))
        return FONT_NAME
    log.warning(
        "no CJK TrueType font found (apt-get install fonts-wqy-zenhei); the dossier uses %s, "
        "which is not embedded",
        FALLBACK_CID,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID))
    return FALLBACK_CID
