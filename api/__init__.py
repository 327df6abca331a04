"""The investigation API (FastAPI + strawberry GraphQL), the CLI and the /ui page."""
