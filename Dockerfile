# The medfraud API, served against the store named by MEDFRAUD_STORE (Neo4j in docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A CJK TrueType font for the referral dossier PDF (api/dossier/fonts.py embeds it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first (from the project metadata), so code edits do not re-download wheels.
COPY pyproject.toml README.md ./
COPY graph/ graph/
COPY ingest/ ingest/
COPY algorithms/ algorithms/
COPY queries/ queries/
COPY api/ api/
RUN pip install . \
    && useradd --create-home --uid 10001 medfraud \
    && mkdir -p /app/data \
    && chown medfraud /app/data

USER medfraud
EXPOSE 8000
CMD ["medfraud", "serve", "--host", "0.0.0.0", "--port", "8000"]
