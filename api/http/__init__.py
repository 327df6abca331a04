"""HTTP plumbing: the FastAPI app (``app``), request dependencies, metrics and the /ui page."""
