"""Articles: ingest, metadata detection, storage and re-resolution of their place mentions."""
from __future__ import annotations

__all__ = ["affected_articles", "article_count", "has_pending", "ingest_paths", "load_seeds", "preview_reresolve",
           "queue_reresolution", "reresolve", "reresolve_pending", "save_document"]


def __getattr__(name: str):
    # The store (and the gazetteer editing and shapely behind it) is imported on first use: `mapapp geoparse`
    # reads documents through mapapp.articles.documents and must not pay for the rest of the package.
    if name in __all__:
        from mapapp.articles import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
