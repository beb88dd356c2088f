"""The one cache policy (mapapp.cache): bounded LRU caches, by entries or by bytes, safe across threads."""
from __future__ import annotations

import threading

import pytest

from mapapp.cache import LIMITS, LRU, ByteBudget, lru, memoize


def test_every_cache_is_bounded_as_the_table_says():
    for what, limit in LIMITS.items():
        assert lru(what).maxsize == limit > 0, what
    views = lru("map views")
    views["a"] = b"12345"
    assert views.currsize == 5  # bytes


def test_the_least_recently_used_entry_goes_first():
    cache = LRU(2)
    cache["a"], cache["b"] = 1, 2
    assert cache["a"] == 1  # "b" is now the least recently used
    cache["c"] = 3
    assert set(cache.keys()) == {"a", "c"}


def test_a_cache_by_bytes_keeps_its_budget_and_refuses_a_value_over_a_quarter_of_it():
    calls = []
    cache = ByteBudget(100)

    @memoize(cache)
    def body(size: int) -> bytes:
        calls.append(size)
        return b"x" * size

    for size in (20, 21, 22, 23, 24):
        assert body(size) == b"x" * size
    assert cache.currsize <= 100 and 20 not in [key[0] for key in cache]  # the oldest went
    assert body(26) == b"x" * 26 and body(26) == b"x" * 26  # too large to keep: made each time
    assert calls.count(26) == 2 and all(key != (26,) for key in cache)


def test_memoize_keys_by_what_the_value_depends_on():
    versions = {"p": 1}
    calls = []

    @memoize("feature geometry", key=lambda place_id: (place_id, versions[place_id]))
    def shape(place_id):
        calls.append(place_id)
        return f"{place_id} v{versions[place_id]}"

    assert shape("p") == shape("p") == "p v1" and len(calls) == 1
    versions["p"] = 2  # an edit bumps the version: the cached value is never served again
    assert shape("p") == "p v2" and len(calls) == 2


def test_a_cache_shared_by_threads_stays_within_its_bound():
    cache, wrong = LRU(50), []

    @memoize(cache)
    def square(n):
        return n * n

    def work(offset):
        for n in range(2000):
            if square((n + offset) % 300) != ((n + offset) % 300) ** 2:
                wrong.append(n)

    threads = [threading.Thread(target=work, args=(k * 7,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong and len(cache) <= 50


def test_memoize_once_computes_a_key_once_while_other_threads_wait_for_it():
    calls, started, release = [], threading.Event(), threading.Event()

    @memoize(lru("country outlines"), once=True)
    def slow(key):
        calls.append(key)
        started.set()
        release.wait(10)
        return f"value of {key}"

    results = []
    first = threading.Thread(target=lambda: results.append(slow("world")))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=lambda: results.append(slow("world"))) for _ in range(3)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(0.2)
        assert thread.is_alive()  # waiting for the first call's result, not returning early
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert calls == ["world"] and results == ["value of world"] * 4


def test_memoize_once_lets_the_next_caller_compute_after_a_failure():
    calls = []

    @memoize(lru("country outlines"), once=True)
    def flaky(key):
        calls.append(key)
        if len(calls) == 1:
            raise RuntimeError("first call fails")
        return key

    with pytest.raises(RuntimeError):
        flaky("a")
    assert flaky("a") == "a" and calls == ["a", "a"]
