"""Articles: ingest, metadata, storage and re-resolution of mentions."""
