"""Articles: ingest, metadata detection, storage and re-resolution of their place mentions."""
from mapapp.articles.store import (
    affected_articles,
    article_count,
    ingest_paths,
    load_seeds,
    preview_reresolve,
    reresolve,
    save_document,
)

__all__ = ["affected_articles", "article_count", "ingest_paths", "load_seeds", "preview_reresolve",
           "reresolve", "save_document"]
