"""The one cache policy: what mapapp keeps in memory, how it is keyed, how much of it.

Every cache is a least-recently-used cache made here, bounded by the number of entries it holds (an
`lru-dict` LRU: in C, so the geoparser's inner loops can afford it, and each get, set and `in` is atomic, so
threads share it without a lock) or, for serialised responses, by their bytes (a `cachetools` LRUCache with
its lock). Functions are memoized over either with `cachetools.cached`. The sizes are in `LIMITS`.

A cache's key holds everything the value depends on, the data version included: an admin edit bumps
`meta.gazetteer_version` (and the edited place's `version`), a write to the articles bumps
`meta.articles_version`, so a stale entry is never served; it is only unused, and ages out. Caches that
belong to one Gazetteer or Geoparser are made anew when it sees another version.

Loading a file once per process (word lists, models: `functools.cache` on a function without arguments)
and scratch memos inside one call (the recogniser's, over one text) are not caches in this sense.
"""
from __future__ import annotations

import threading

import cachetools
import lru as lru_dict
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
    # geoparse/resolve.py: a region's bounding box (plain Python, before any shape is made), likewise keyed.
    "region bounds": 10_000,
    # geoparse/parser.py, one per Geoparser and gazetteer version: a name's candidates and their priors.
    "resolved names": 50_000,
    # gazetteer/store.py, one per Gazetteer version: places by id, a key's (place, kind) rows, its ranked ids.
    "places": 200_000,
    "name lookups": 200_000,
    "ranked ids": 200_000,
}
#: Caches bounded by bytes (the size of a value is its len()); any other is bounded by entries.
BY_BYTES = frozenset({"map views"})


class LRU(lru_dict.LRU):
    """At most `maxsize` entries; the least recently used goes first."""

    @property
    def maxsize(self) -> int:
        """How many entries it keeps."""
        return self.get_size()


class ByteBudget(cachetools.LRUCache):
    """Values (bytes) up to a total of `budget` bytes, least recently used out first; it refuses a value over
    a quarter of the budget (one huge view would push out every other). Take `lock` around every use."""

    def __init__(self, budget: int):
        super().__init__(budget, getsizeof=len)
        self.lock = threading.Lock()
        self._largest = budget // 4

    def __setitem__(self, key, value):
        if len(value) > self._largest:
            raise ValueError("value too large")  # what cachetools raises, and its decorators skip
        super().__setitem__(key, value)


def lru(what: str) -> LRU | ByteBudget:
    """A new, empty cache for `what` (a name in LIMITS), bounded as LIMITS says."""
    return ByteBudget(LIMITS[what]) if what in BY_BYTES else LRU(LIMITS[what])


def memoize(what: str | LRU | ByteBudget, *, key=hashkey, once: bool = False):
    """Decorator: keep a function's results in a cache (`what`: a name in LIMITS, or a cache of lru()),
    keyed by `key(*args, **kwargs)` (default: the arguments); safe to call from several threads.

    once=True: a caller asking for a key that another thread is computing waits for that result instead of
    computing it again (for values that take seconds, which several requests may ask for at once).
    """
    cache = lru(what) if isinstance(what, str) else what
    lock = getattr(cache, "lock", None)
    if not once:
        return cachetools.cached(cache, key=key, lock=lock)
    lock = lock or threading.Lock()
    return cachetools.cached(cache, key=key, lock=lock, condition=threading.Condition(lock))
