"""The referral dossier (移送材料) of a case: a PDF for the police, and the claims as a spreadsheet.

- :mod:`.content`: what goes in, read through the GraphQL schema with the caller's context, so the
  same access rules, masking and audit record apply as to any read (nothing is re-implemented);
- :mod:`.audit_excerpt`: who opened, shared, reviewed and noted the case, from the audit log;
- :mod:`.drawings`: the network picture and the timeline as vector drawings;
- :mod:`.pdf` (reportlab, an embedded CJK font from :mod:`.fonts`) and :mod:`.xlsx` (openpyxl);
- :mod:`.routes`: ``GET /cases/{id}/dossier.pdf`` and ``.xlsx``; :mod:`.cli`: ``medfraud dossier``.
"""
