"""`mapapp geoparse` (place mentions of files as JSON lines) and `mapapp evaluate` (scores on annotated corpora)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import click

from mapapp.cli import data_option, max_size_option
from mapapp.errors import MapappError
from mapapp.escaping import terminal_text


def _load_parser(data: Path, *, ner: bool = False, progress: bool = True):
    """Open (building when missing, progress on stderr) the gazetteer of `data` and a Geoparser over it."""
    from mapapp.gazetteer import open_gazetteer
    from mapapp.geoparse import Geoparser

    gazetteer = open_gazetteer(data, build_if_missing=True, progress=progress)
    parser = Geoparser(gazetteer, ner=ner)
    parser.name_index()
    return parser


def mention_record(mention) -> dict:
    """One mention as the `mapapp geoparse` JSON contract writes it."""
    place = mention.place
    return {
        "start": mention.start, "end": mention.end, "text": mention.text, "kind": mention.kind,
        "place": None if place is None else {
            "id": place.id, "name": place.name, "feature": place.feature, "country_code": place.country_code,
            "lat": place.lat, "lon": place.lon, "geometry_type": place.geometry_type,
            "geometry": place.geometry, "score": mention.score,
        },
    }


def _text_lines(document: str, mentions: list):
    yield f"# {terminal_text(document)}: {len(mentions)} mentions"
    for m in mentions:
        place = m.place
        where = f"{place.name} [{place.id}] {place.feature} {place.country_code or ''}" if place else "(unresolved)"
        yield terminal_text(f"{m.start:>7}-{m.end:<7} {m.kind:<8} {m.text[:40]!s:<40} {where}  {m.score:.2f}")


def _record_chunks(document: str, mentions: list, *, pretty: bool, first: bool):
    """One document's JSON record in pieces, one mention at a time: a long article is never one string."""
    dumps = json.dumps
    if not pretty:
        yield f'{{"document": {dumps(document, ensure_ascii=False)}, "mentions": ['
        for number, mention in enumerate(mentions):
            yield (", " if number else "") + dumps(mention_record(mention), ensure_ascii=False)
        yield "]}\n"
        return
    # The layout of json.dumps(records, indent=2), written document by document.
    yield ("[\n" if first else ",\n") + f'  {{\n    "document": {dumps(document, ensure_ascii=False)},\n    "mentions": ['
    for number, mention in enumerate(mentions):
        text = dumps(mention_record(mention), ensure_ascii=False, indent=2).replace("\n", "\n      ")
        yield ("," if number else "") + "\n      " + text
    yield "\n    ]\n  }" if mentions else "]\n  }"


def _write(chunks) -> None:
    """Echo `chunks` in blocks of about 64 kB, flushing at the end, so that each document shows up at once."""
    block, size = [], 0
    for chunk in chunks:
        block.append(chunk)
        size += len(chunk)
        if size >= 65536:
            click.echo("".join(block), nl=False)
            block, size = [], 0
    click.echo("".join(block), nl=False)


@click.command("geoparse")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--format", "output_format", type=click.Choice(["jsonl", "json", "text"]), default="jsonl",
              show_default=True, help="jsonl: one JSON object per file; json: one array; text: a table.")
@click.option("--ner", is_flag=True, help="Also use spaCy's statistical NER for more recall (needs mapapp[ner]).")
@max_size_option
@data_option
def geoparse_command(files, output_format, ner, max_size, data):
    """Find and resolve the place names of each FILE (.txt, .md, .html), printing one JSON object per file.

    Each file is read exactly as `mapapp ingest` reads it: front matter and markup removed, newlines made
    \\n, control and bidi characters dropped. The mentions are those ingest stores, and their start/end
    offsets index that text (the article text ingest stores), not the raw bytes of the file. Files must be
    regular files no larger than --max-size; each result is written as soon as its file is done.
    """
    from mapapp.articles.documents import as_path, read_document

    parser = _load_parser(data, ner=ner)
    failed = 0
    written = 0
    for name in files:
        try:
            document = read_document(as_path(name), max_bytes=max_size)
        except MapappError as error:
            click.echo(f"Error: {terminal_text(error.message)}", err=True)
            failed += 1
            continue
        mentions = parser.parse(document.text)
        del document  # the text can be megabytes: keep one document's worth of memory at a time
        if output_format == "text":
            _write(line + "\n" for line in _text_lines(name, mentions))
        else:
            _write(_record_chunks(name, mentions, pretty=output_format == "json", first=not written))
        written += 1
        del mentions
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


@click.command("evaluate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--corpus", type=click.Choice(["auto", "trnews", "geovirus", "seeds"]), default="auto",
              show_default=True, help="Format of PATH (auto: detect from its content).")
@click.option("--articles", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Seeds only: folder holding the articles named in gold.json (default: beside it, else seeds/).")
@click.option("--demonyms/--no-demonyms", default=None,
              help="Count adjectival mentions (Turkish) as toponyms (default: as the corpus annotates them).")
@click.option("--ner", is_flag=True, help="Also use spaCy's statistical NER (needs mapapp[ner]).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@data_option
def evaluate_command(path, corpus, articles, demonyms, ner, output_format, data):
    """Score recognition (P/R/F1) and resolution (Acc@161, km errors, AUC) on an annotated corpus at PATH."""
    from mapapp.geoparse import evaluate

    kind = evaluate.detect_corpus(path) if corpus == "auto" else corpus
    parser = _load_parser(data, ner=ner)
    started = time.perf_counter()
    if kind == "seeds":
        gold_path = path / "gold.json" if path.is_dir() else path
        gold = evaluate.load_seed_gold(gold_path)
        folder = articles or _seed_articles(gold_path, gold)
        result = evaluate.evaluate_seeds(parser, gold, folder).as_dict()
        result["seconds"] = round(time.perf_counter() - started, 2)
        _print_scores(f"seeds ({gold_path})", result, output_format)
        if result["resolved"] < result["expected"]:
            raise SystemExit(1)
        return
    scores = evaluate.evaluate_corpus(parser, evaluate.LOADERS[kind](path), demonyms=demonyms, progress=True)
    result = scores.as_dict()
    result["seconds"] = round(time.perf_counter() - started, 2)
    _print_scores(f"{kind} ({path})", result, output_format)


def _seed_articles(gold_path: Path, gold: dict) -> Path:
    """The folder holding the seed articles: beside gold.json if they are there, else the project's seeds/."""
    from mapapp import bundled

    first = next(iter(gold["articles"]), "")
    for folder in (gold_path.parent, bundled.folder("seeds")):
        if (folder / first).exists():
            return folder
    raise MapappError(f"{gold_path}: cannot find the seed articles beside it; pass --articles DIR")
