"""The one cache policy: what mapapp keeps in memory, how it is keyed, how much of it (cachetools' LRU).

Every cache is a least-recently-used cache made here, bounded by the number of entries it holds or, for
serialised responses, by their bytes (`LIMITS`). Its key holds everything the value depends on, the data
version included: an admin edit bumps `meta.gazetteer_version` (and the edited place's `version`), a write to
the articles bumps `meta.articles_version`, so a stale entry is never served; it is only unused, and ages
out. Caches that belong to one Gazetteer or Geoparser are made anew when it sees another version.

Loading a file once per process (word lists, models: `functools.cache` on a function without arguments)
and scratch memos inside one call (the recogniser's, over one text) are not caches in this sense.
"""
from __future__ import annotations

import functools
import threading

import cachetools
from cachetools.keys import hashkey

MIB = 1024 * 1024

#: What is cached (the name given to lru()), and how much: entries, or bytes for "map views".
LIMITS = {
    # maps/features.py: a filter set's GeoJSON and the facets, as JSON bytes, by database, data version, filters.
    "map views": 64 * MIB,
    # maps/features.py: a place's geometry parsed from its JSON text, by place id and version.
    "feature geometry": 8192,
    # maps/builder.py: rendered map pages that carry no inline data (the overview, its embeds), by spec.
    "map shells": 256,
    # maps/basemap.py: the simplified country outlines, by database, tolerance and gazetteer version.
    "country outlines": 8,
    # geoparse/resolve.py: a region's shape prepared for containment tests, by place id, version and geometry.
    "region shapes": 10_000,
    # geoparse/cli.py: a place's geometry as JSON text, by the geometry object.
    "geometry json": 10_000,
    # geoparse/parser.py, one per Geoparser and gazetteer version: a name's candidates and their priors.
    "resolved names": 50_000,
    # gazetteer/store.py, one per Gazetteer version: places by id, a key's (place, kind) rows, its ranked ids.
    "places": 200_000,
    "name lookups": 200_000,
    "ranked ids": 200_000,
}
#: Caches bounded by bytes (the size of a value is its len()); any other is bounded by entries.
BY_BYTES = frozenset({"map views"})


class LRU(cachetools.LRUCache):
    """A bounded least-recently-used cache with the lock its users take (cachetools' caches are not
    thread-safe)."""

    def __init__(self, maxsize: int, getsizeof=None):
        super().__init__(maxsize, getsizeof)
        self.lock = threading.Lock()


class _ByteBudget(LRU):
    """An LRU bounded by the bytes of its values; it refuses a value over a quarter of its budget (one huge
    view would push out every other)."""

    def __init__(self, budget: int):
        super().__init__(budget, getsizeof=len)
        self._largest = budget // 4

    def __setitem__(self, key, value):
        if len(value) > self._largest:
            raise ValueError("value too large")  # what cachetools raises, and its decorators skip
        super().__setitem__(key, value)


def lru(what: str) -> LRU:
    """A new, empty cache for `what` (a name in LIMITS), bounded as LIMITS says."""
    return _ByteBudget(LIMITS[what]) if what in BY_BYTES else LRU(LIMITS[what])


def memoize(what: str | LRU, *, key=None):
    """Decorator: keep a function's results in a cache (`what`: a name in LIMITS, or a cache of lru()),
    keyed by `key(*args, **kwargs)`; safe to call from several threads.

    Without `key`, keyed by the (hashable) arguments, in functools.lru_cache (the same policy, in C: what
    the geoparser calls in its inner loops).
    """
    if key is None and isinstance(what, str) and what not in BY_BYTES:
        return functools.lru_cache(maxsize=LIMITS[what])
    cache = lru(what) if isinstance(what, str) else what
    return cachetools.cached(cache, key=key or hashkey, lock=cache.lock)
