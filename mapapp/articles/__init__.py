"""Articles: ingest, metadata detection, storage and re-resolution of their place mentions."""
from mapapp.articles.store import (
    affected_articles,
    article_count,
    has_pending,
    ingest_paths,
    load_seeds,
    preview_reresolve,
    queue_reresolution,
    reresolve,
    reresolve_pending,
    save_document,
)

__all__ = ["affected_articles", "article_count", "has_pending", "ingest_paths", "load_seeds", "preview_reresolve",
           "queue_reresolution", "reresolve", "reresolve_pending", "save_document"]
