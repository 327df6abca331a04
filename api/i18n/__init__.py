"""What investigators, police liaisons and analysts read, in Simplified Chinese or English.

- :mod:`api.i18n.settings`: ``MEDFRAUD_LANG`` (default ``zh``), the language when a caller names none.
- :mod:`api.i18n.negotiate`: the caller's language from ``Accept-Language`` (the page sends the
  user's choice there).
- :mod:`api.i18n.catalogue`: the message catalogue (``messages.json``) shared by the page and by
  server-side documents such as the referral dossier; evidence sentences have their own templates
  next to the detectors (:mod:`algorithms.evidence_templates`).
"""

from __future__ import annotations

from algorithms.evidence import LANGS, Lang
from api.i18n.catalogue import catalogue, t
from api.i18n.negotiate import pick_language
from api.i18n.settings import LangSettings

__all__ = ["LANGS", "Lang", "LangSettings", "catalogue", "pick_language", "t"]
