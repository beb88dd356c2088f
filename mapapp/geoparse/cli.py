"""`mapapp geoparse` (place mentions of files as JSON lines) and `mapapp evaluate` (scores on annotated corpora)."""
from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path

import click

from mapapp.cli_options import data_option, max_size_option, near_option
from mapapp.errors import InvalidInput, MapappError, MissingDependency, NotFound
from mapapp.escaping import terminal_text


def _load_parser(data: Path, *, ner: bool = False, progress: bool = True, model=None):
    """Open (building when missing, progress on stderr) the gazetteer of `data` and a Geoparser over it."""
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import Geoparser

    gazetteer = open_gazetteer(data, build_if_missing=True, progress=progress)
    parser = Geoparser(gazetteer, ner=ner, model=model)
    parser.name_index()
    return parser


def mention_record(mention, *, geometry=None) -> dict:
    """One mention as the `mapapp geoparse` JSON contract writes it (`geometry`: what to write for the place's
    shape instead of its GeoJSON dict)."""
    place = mention.place
    return {
        "start": mention.start, "end": mention.end, "text": mention.text, "kind": mention.kind,
        "place": None if place is None else {
            "id": place.id, "name": place.name, "feature": place.feature, "country_code": place.country_code,
            "lat": place.lat, "lon": place.lon, "geometry_type": place.geometry_type,
            "geometry": place.geometry if geometry is None else geometry, "score": mention.score,
        },
    }


#: A placeholder for a place's geometry in a record: JSON writes it where the geometry goes, and the geometry's
#: own JSON text, as the gazetteer stores it, replaces it (a country's outline is most of a record: decoding it
#: to encode it again was most of the cost of writing it).
_GEOMETRY = "\x00geometry\x00"
_GEOMETRY_JSON = json.dumps(_GEOMETRY)


#: Where a worker leaves a geometry out of its output (JSON never holds a raw NUL), for the parent to write.
_LEFT_OUT = "\x00"


def _record_parts(mention, left_out: list | None = None) -> tuple[str, ...]:
    """json.dumps(mention_record(mention), ensure_ascii=False) in pieces, the geometry one of them, written as
    the gazetteer stores it (not copied into the rest); with `left_out`, the geometry is `_LEFT_OUT` and its
    place's id is appended to `left_out`."""
    place = mention.place
    geometry = None if place is None else place.geometry_text()
    if geometry is None:
        return (json.dumps(mention_record(mention), ensure_ascii=False),)
    record = mention_record(mention, geometry=_GEOMETRY)
    if left_out is not None:
        left_out.append(place.id)
        geometry = _LEFT_OUT
    # The geometry is the last string of the record (only the score follows it): the last placeholder is its.
    before, _, after = json.dumps(record, ensure_ascii=False).rpartition(_GEOMETRY_JSON)
    return before, geometry, after


def _with_geometries(gazetteer, text: str, place_ids: list[str]):
    """A worker's jsonl output with the geometries it left out written in, from this process's gazetteer."""
    parts = text.split(_LEFT_OUT)
    yield parts[0]
    for place_id, part in zip(place_ids, parts[1:]):
        try:
            yield gazetteer.get(place_id).geometry_text() or "null"
        except NotFound:  # deleted by an editor since the worker read it
            yield "null"
        yield part


def _text_lines(document: str, mentions: list):
    yield f"# {terminal_text(document)}: {len(mentions)} mentions"
    for m in mentions:
        place = m.place
        where = f"{place.name} [{place.id}] {place.feature} {place.country_code or ''}" if place else "(unresolved)"
        yield terminal_text(f"{m.start:>7}-{m.end:<7} {m.kind:<8} {m.text[:40]!s:<40} {where}  {m.score:.2f}")


def _record_chunks(document: str, mentions: list, *, pretty: bool, first: bool, left_out: list | None = None):
    """One document's JSON record in pieces, one mention at a time: a long article is never one string
    (`left_out`: see `_record_parts`; jsonl only)."""
    dumps = json.dumps
    if not pretty:
        yield f'{{"document": {dumps(document, ensure_ascii=False)}, "mentions": ['
        for number, mention in enumerate(mentions):
            if number:
                yield ", "
            yield from _record_parts(mention, left_out)
        yield "]}\n"
        return
    # The layout of json.dumps(records, indent=2), written document by document.
    opening = f'  {{\n    "document": {dumps(document, ensure_ascii=False)},\n    "mentions": ['
    yield ("[\n" if first else ",\n") + opening
    for number, mention in enumerate(mentions):
        text = dumps(mention_record(mention), ensure_ascii=False, indent=2).replace("\n", "\n      ")
        yield ("," if number else "") + "\n      " + text
    yield "\n    ]\n  }" if mentions else "]\n  }"


def _write(chunks) -> None:
    """Write `chunks` to stdout in blocks of about 64 kB, flushing at the end, so that each document shows up at
    once; a chunk as large as a block (a country's outline) is written alone, not copied into one.

    Not click.echo: it runs a regex over every string to strip terminal colour codes when stdout is not a
    terminal, hundreds of MB of outlines here, and the output holds none (JSON escapes ESC; the text table is
    made with terminal_text)."""
    stream = sys.stdout
    block, size = [], 0
    for chunk in chunks:
        if len(chunk) >= 65536:
            stream.write("".join(block))
            stream.write(chunk)
            block, size = [], 0
            continue
        block.append(chunk)
        size += len(chunk)
        if size >= 65536:
            stream.write("".join(block))
            block, size = [], 0
    stream.write("".join(block))
    stream.flush()


def _document_output(name: str, text: str, mentions: list, output_format: str, first: bool) -> str:
    """What `mapapp geoparse` writes for one file."""
    if output_format == "text":
        return "".join(line + "\n" for line in _text_lines(name, mentions))
    return "".join(_record_chunks(name, mentions, pretty=output_format == "json", first=first))


def _work(parser, regions, name: str, output_format: str, max_size: int) -> tuple:
    """(output, None) or (None, error message) for one file, in a worker process; for jsonl the output is
    (text, place ids) with the geometries left out (`_with_geometries` writes them in)."""
    from mapapp.articles.documents import as_path, read_document

    try:
        document = read_document(as_path(name), max_bytes=max_size)
        home = regions.for_document(document)
    except MapappError as error:
        return None, error.message
    mentions = parser.parse(document.text, near=home)
    if output_format == "jsonl":
        # Geometries are most of the output (a country's outline for every mention of it): sending them back
        # would cost more than parsing; the parent writes them in by place id.
        place_ids: list[str] = []
        text = "".join(_record_chunks(name, mentions, pretty=False, first=False, left_out=place_ids))
        return (text, place_ids), None
    return _document_output(name, document.text, mentions, output_format, first=False), None


def _parallel_results(parser, files, output_format, max_size, jobs, near, sources):
    """(output, error) per file, in order, from `jobs` worker processes."""
    from mapapp.geoparse import workers

    with workers.parse_pool(parser.gazetteer.path, jobs=jobs, ner=parser.ner, near=near, sources=sources) as pool:
        yield from workers.run(pool, _work, [(name, output_format, max_size) for name in files], jobs)


def _serial_results(parser, regions, files, output_format, max_size):
    from mapapp.articles.documents import as_path, read_document

    for name in files:
        try:
            document = read_document(as_path(name), max_bytes=max_size)
            home = regions.for_document(document)
        except MapappError as error:
            yield None, error.message
            continue
        mentions = parser.parse(document.text, near=home)
        if output_format == "text":
            yield (line + "\n" for line in _text_lines(name, mentions)), None
        else:
            # Chunks, not one string: a long article's record is never held whole.
            yield _record_chunks(name, mentions, pretty=output_format == "json", first=False), None
        del document, mentions  # the text can be megabytes: keep one document's worth of memory at a time


@click.command("geoparse")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "output_format", type=click.Choice(["jsonl", "json", "text"]), default="jsonl",
              show_default=True, help="jsonl: one JSON object per file; json: one array; text: a table.")
@click.option("--ner", is_flag=True, help="Also use spaCy's statistical NER for more recall (needs mapapp[ner]).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for many files (default: every core); output stays in the files' order.")
@near_option
@max_size_option
@data_option
def geoparse_command(files, output_format, ner, jobs, near, max_size, data):
    """Find and resolve the place names of each FILE (.txt, .md, .html), printing one JSON object per file.

    Each file is read exactly as `mapapp ingest` reads it: front matter and markup removed, newlines made
    \\n, control and bidi characters dropped. The mentions are those ingest stores, and their start/end
    offsets index that text (the article text ingest stores), not the raw bytes of the file. Files must be
    regular files no larger than --max-size; each result is written as soon as its file is done. The home
    region is chosen as ingest chooses it (front matter `near:`, --near, DATA_DIR/sources.toml).
    """
    from mapapp.articles.near import HomeRegions, load_sources
    from mapapp.geoparse.workers import default_jobs

    parser = _load_parser(data, ner=ner)
    sources = load_sources(data)
    # Resolved here, before any file is read: an unknown --near or sources.toml entry stops the run at once.
    regions = HomeRegions(parser.gazetteer, default=near, sources=sources)
    jobs = min(jobs or default_jobs(), len(files))
    if jobs > 1:
        results = _parallel_results(parser, files, output_format, max_size, jobs, near, sources)
    else:
        results = _serial_results(parser, regions, files, output_format, max_size)
    failed = 0
    written = 0
    for output, error in results:
        if error is not None:
            click.echo(f"Error: {terminal_text(error)}", err=True)
            failed += 1
            continue
        if isinstance(output, tuple):
            chunks = _with_geometries(parser.gazetteer, *output)
        else:
            chunks = iter([output]) if isinstance(output, str) else iter(output)
        if output_format == "json" and not written:
            head = next(chunks, "")
            chunks = itertools.chain(["[" + head[1:]], chunks)  # the first record opens the array
        _write(chunks)
        written += 1
    if output_format == "json":
        click.echo("\n]" if written else "[]")
    if failed:
        raise SystemExit(1)


def _print_scores(title: str, scores: dict, output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps({"corpus": title, **scores}))
        return
    click.echo(terminal_text(title))
    for name, value in scores.items():
        click.echo(f"  {name:<18} {value}")


def _dev_corpora(folder: Path) -> list:
    """Every development corpus in `folder` (TR-News, GeoVirus, GeoCorpora), loaded; a missing one is an error."""
    from mapapp.geoparse import evaluate

    corpora = []
    for name, filename in evaluate.CORPUS_FILES.items():
        path = folder / filename
        if not path.is_file():
            names = ", ".join(evaluate.CORPUS_FILES.values())
            raise NotFound(f"{path}: missing (the development corpora are {names})")
        corpora.append(evaluate.LOADERS[name](path))
    return corpora


def _fitting_available() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingDependency("fitting needs scikit-learn: pip install scikit-learn") from None


@click.command("evaluate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--corpus", type=click.Choice(["auto", "trnews", "geovirus", "geocorpora", "seeds"]), default="auto",
              show_default=True, help="Format of PATH (auto: detect from its content).")
@click.option("--articles", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Seeds only: folder holding the articles named in gold.json (default: beside it, else seeds/).")
@click.option("--demonyms/--no-demonyms", default=None,
              help="Count adjectival mentions (Turkish) as toponyms (default: as the corpus annotates them).")
@click.option("--ner", is_flag=True, help="Also use spaCy's statistical NER (needs mapapp[ner]).")
@click.option("--cross", is_flag=True,
              help="PATH is the folder of the development corpora: score each with a model fitted on the others.")
@click.option("--folds", type=click.IntRange(2, 20), default=None,
              help="k-fold cross-validation by document within the corpus at PATH (fixed seed).")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Score with this model file instead of the shipped one.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@data_option
def evaluate_command(path, corpus, articles, demonyms, ner, cross, folds, model_path, output_format, data):
    """Score recognition (P/R/F1) and resolution (Acc@161, km errors, AUC) on an annotated corpus at PATH.

    With --cross (PATH: the folder holding TR-News.xml, GeoVirus.xml, GeoCorpora.jsonl) or --folds K, the
    scores are of held-out data: every model is fitted (as `mapapp train` does) without the scored documents.
    """
    from mapapp.geoparse import evaluate
    from mapapp.geoparse.model import load_model

    if cross and folds:
        raise InvalidInput("choose one of --cross and --folds")
    if cross:
        if not path.is_dir():
            raise InvalidInput(f"{path}: --cross needs the folder of the development corpora")
        _fitting_available()
        from mapapp.geoparse import train

        corpora = _dev_corpora(path)
        # Only the gazetteer is used: every score comes from a model fitted without the scored corpus.
        parser = _load_parser(data, ner=ner, model=train.start_model())
        started = time.perf_counter()
        for name, scores in train.cross_corpus(parser.gazetteer, corpora).items():
            result = scores.as_dict()
            result["seconds"] = round(time.perf_counter() - started, 2)
            _print_scores(f"{name} (held out: fitted on the other corpora)", result, output_format)
        return
    kind = evaluate.detect_corpus(path) if corpus == "auto" else corpus
    model = load_model(model_path) if model_path else None
    if folds:
        _fitting_available()
        from mapapp.geoparse import train

        model = train.start_model()  # every fold is scored by its own fit
    parser = _load_parser(data, ner=ner, model=model)
    started = time.perf_counter()
    if kind == "seeds":
        if folds:
            raise InvalidInput("--folds needs an annotated corpus, not the seed gold")
        gold_path = path / "gold.json" if path.is_dir() else path
        gold = evaluate.load_seed_gold(gold_path)
        folder = articles or _seed_articles(gold_path, gold)
        result = evaluate.evaluate_seeds(parser, gold, folder).as_dict()
        result["seconds"] = round(time.perf_counter() - started, 2)
        _print_scores(f"seeds ({gold_path})", result, output_format)
        if result["resolved"] < result["expected"]:
            raise SystemExit(1)
        return
    loaded = evaluate.LOADERS[kind](path)
    if folds:

        result = train.cross_validate(parser.gazetteer, loaded, folds).as_dict()
        result["seconds"] = round(time.perf_counter() - started, 2)
        _print_scores(f"{kind} ({path}), {folds}-fold cross-validation by document (held-out folds)", result,
                      output_format)
        return
    scores = evaluate.evaluate_corpus(parser, loaded, demonyms=demonyms, progress=True)
    result = scores.as_dict()
    result["seconds"] = round(time.perf_counter() - started, 2)
    _print_scores(f"{kind} ({path})", result, output_format)


@click.command("train")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: the shipped mapapp/geoparse/data/model.json).")
@data_option
def train_command(folder, out, data):
    """Fit the span model and the candidate ranker on the development corpora in FOLDER (reproducible)."""
    _fitting_available()
    from mapapp.geoparse import train
    from mapapp.geoparse.model import MODEL_FILE, save_model

    corpora = _dev_corpora(folder)
    parser = _load_parser(data, model=train.start_model())  # the shipped model may be stale: not read
    model = train.fit(parser.gazetteer, corpora, progress=lambda message: click.echo(message, err=True))
    target = out or MODEL_FILE
    try:
        save_model(model, target)
    except OSError as error:
        raise InvalidInput(f"{target}: cannot write the model ({error.strerror or error})") from None
    click.echo(f"wrote {target}")


def _seed_articles(gold_path: Path, gold: dict) -> Path:
    """The folder holding the seed articles: beside gold.json if they are there, else the project's seeds/."""
    from mapapp import bundled

    first = next(iter(gold["articles"]), "")
    for folder in (gold_path.parent, bundled.folder("seeds")):
        if (folder / first).exists():
            return folder
    raise NotFound(f"{gold_path}: cannot find the seed articles beside it; pass --articles DIR")
