"""Evaluation: load annotated corpora (TR-News, GeoVirus, the seed gold) and score a geoparser against them."""
from __future__ import annotations

import json
import math
import statistics
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from geopy.distance import great_circle

from mapapp.errors import MalformedFile

#: Half the Earth's circumference in km: the largest possible great-circle error (Gritta et al. 2018).
MAX_ERROR_KM = 20039.0
ACCURACY_KM = 161.0


@dataclass(frozen=True)
class GoldToponym:
    """One annotated toponym: its span in the document text and, when linked, where it is."""

    start: int
    end: int
    phrase: str
    lat: float | None = None
    lon: float | None = None


@dataclass
class Document:
    """One annotated text of a corpus."""

    text: str
    toponyms: list[GoldToponym]
    name: str = ""


@dataclass
class Corpus:
    """A named list of documents; `demonyms` tells whether its annotators marked adjectival toponyms."""

    name: str
    documents: list[Document]
    demonyms: bool = False


def _nearest_occurrence(text: str, phrase: str, near: int) -> int | None:
    """Start of the exact occurrence of `phrase` in `text` closest to `near` (None if it never occurs)."""
    best, index = None, text.find(phrase)
    while index != -1:
        if best is None or abs(index - near) < abs(best - near):
            best = index
        index = text.find(phrase, index + 1)
    return best


def _anchor(text: str, phrase: str, start: int, shift: int = 0) -> int | None:
    """The corrected start of a toponym: the shifted offset when it matches, else the nearest occurrence."""
    if text[start + shift:start + shift + len(phrase)] == phrase:
        return start + shift
    return _nearest_occurrence(text, phrase, start + shift)


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _parse_xml(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as error:
        raise MalformedFile(f"not well-formed XML ({error})", path=str(path)) from None


def load_trnews(path: str | Path) -> Corpus:
    """TR-News (Kamalloo & Rafiei 2018): re-anchors the ~117 shifted offsets to the nearest exact phrase."""
    documents = []
    for article in _parse_xml(Path(path)).iter("article"):
        text = article.findtext("text") or ""
        toponyms = []
        for node in article.iter("toponym"):
            phrase = node.findtext("phrase") or ""
            start = _anchor(text, phrase, int(node.findtext("start") or 0))
            if start is None or not phrase:
                continue
            tag = node.find("gaztag")
            lat = _float(tag.findtext("lat")) if tag is not None else None
            lon = _float(tag.findtext("lon")) if tag is not None else None
            toponyms.append(GoldToponym(start, start + len(phrase), phrase, lat, lon))
        documents.append(Document(text, _dedupe(toponyms), article.get("docid", "")))
    return Corpus("trnews", documents, demonyms=True)


def load_geovirus(path: str | Path) -> Corpus:
    """GeoVirus (Gritta et al. 2018): every offset is one character too far right; shifted back here."""
    documents = []
    for number, article in enumerate(_parse_xml(Path(path)).iter("article")):
        text = article.findtext("text") or ""
        toponyms = []
        for node in article.iter("location"):
            phrase = node.findtext("name") or ""
            start = _anchor(text, phrase, int(node.findtext("start") or 0), shift=-1)
            if start is None or not phrase:
                continue
            toponyms.append(GoldToponym(start, start + len(phrase), phrase,
                                        _float(node.findtext("lat")), _float(node.findtext("lon"))))
        documents.append(Document(text, _dedupe(toponyms), article.findtext("source") or str(number)))
    return Corpus("geovirus", documents, demonyms=False)


def _dedupe(toponyms: list[GoldToponym]) -> list[GoldToponym]:
    """Drop toponyms re-anchored onto a span another one already holds."""
    seen, kept = set(), []
    for toponym in sorted(toponyms, key=lambda t: (t.start, t.end)):
        if (toponym.start, toponym.end) not in seen:
            seen.add((toponym.start, toponym.end))
            kept.append(toponym)
    return kept


def load_geocorpora(path: str | Path) -> Corpus:
    """GeoCorpora tweets (Wallgrün et al. 2018) as JSON lines; offsets already match the text."""
    documents = []
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    text = record["text"]
                    toponyms = []
                    for node in record["toponyms"]:
                        phrase = node["text"]
                        start = _anchor(text, phrase, int(node["start"]))
                        if start is None or not phrase:
                            continue
                        toponyms.append(GoldToponym(start, start + len(phrase), phrase,
                                                    _float(node.get("lat")), _float(node.get("lon"))))
                except (ValueError, KeyError, TypeError) as error:
                    raise MalformedFile(f"line {number}: not a GeoCorpora record ({error})", path=str(path)) from None
                documents.append(Document(text, _dedupe(toponyms), str(record.get("id", number))))
    except UnicodeDecodeError:
        raise MalformedFile("not UTF-8 text", path=str(path)) from None
    # Its annotators marked a few adjectives ("Ukrainian") but left most unmarked (scoring them as toponyms
    # costs more precision than it gains recall): like GeoVirus, demonyms do not count.
    return Corpus("geocorpora", documents, demonyms=False)


def detect_corpus(path: str | Path) -> str:
    """Guess a corpus format from its content: 'seeds' (JSON gold), 'trnews', 'geovirus' (XML), 'geocorpora'."""
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        return "geocorpora"
    if path.is_dir() or path.suffix.lower() == ".json":
        return "seeds"
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.lstrip().startswith(b"{") and b'"toponyms"' in head:
        return "geocorpora"
    if b"<toponym" in head or b"docid=" in head:
        return "trnews"
    if b"<location" in head or b"<locations" in head:
        return "geovirus"
    raise MalformedFile("unknown corpus format (use --corpus trnews|geovirus|geocorpora|seeds)", path=str(path))


LOADERS = {"trnews": load_trnews, "geovirus": load_geovirus, "geocorpora": load_geocorpora}
#: The development corpora, by loader name, as files of the shared eval folder.
CORPUS_FILES = {"trnews": "TR-News.xml", "geovirus": "GeoVirus.xml", "geocorpora": "GeoCorpora.jsonl"}


# ----------------------------------------------------------------------------------------------- metrics

@dataclass
class Scores:
    """Recognition counts and resolution errors (km) accumulated over a corpus."""

    true_positives: int = 0
    predicted: int = 0
    gold: int = 0
    errors_km: list[float] = field(default_factory=list)
    #: The same errors, but 0 when the answer is a region whose shape covers the gold point
    shape_errors_km: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Share of predicted spans that are gold spans."""
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        """Share of gold spans that were predicted."""
        return self.true_positives / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy_161(self) -> float:
        """Share of correctly found, linked toponyms resolved within 161 km."""
        errors = self.errors_km
        return sum(error <= ACCURACY_KM for error in errors) / len(errors) if errors else 0.0

    @property
    def mean_km(self) -> float:
        """Mean great-circle error in km."""
        return statistics.fmean(self.errors_km) if self.errors_km else 0.0

    @property
    def median_km(self) -> float:
        """Median great-circle error in km."""
        return statistics.median(self.errors_km) if self.errors_km else 0.0

    @property
    def auc(self) -> float:
        """Area under the sorted ln(1 + error) / ln(20039) curve (0 is perfect, 1 the worst; Gritta et al.)."""
        return log_error_auc(self.errors_km)

    @property
    def shape_accuracy_161(self) -> float:
        """Acc@161 where an answer region covering the gold point counts as exact."""
        errors = self.shape_errors_km
        return sum(error <= ACCURACY_KM for error in errors) / len(errors) if errors else 0.0

    def as_dict(self) -> dict:
        """The headline numbers, rounded for printing."""
        shape_errors = self.shape_errors_km
        return {"gold": self.gold, "predicted": self.predicted, "true_positives": self.true_positives,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "resolved": len(self.errors_km), "acc_161": round(self.accuracy_161, 4),
                "mean_km": round(self.mean_km, 1), "median_km": round(self.median_km, 1), "auc": round(self.auc, 4),
                "shape_acc_161": round(self.shape_accuracy_161, 4),
                "shape_mean_km": round(statistics.fmean(shape_errors), 1) if shape_errors else 0.0,
                "shape_median_km": round(statistics.median(shape_errors), 1) if shape_errors else 0.0,
                "shape_auc": round(log_error_auc(shape_errors), 4)}


def log_error_auc(errors_km: list[float]) -> float:
    """Trapezoid area under the sorted, log-scaled error curve, normalised to [0, 1]."""
    if not errors_km:
        return 0.0
    scaled = sorted(math.log1p(min(max(e, 0.0), MAX_ERROR_KM)) / math.log1p(MAX_ERROR_KM) for e in errors_km)
    if len(scaled) == 1:
        return scaled[0]
    area = sum((a + b) / 2 for a, b in zip(scaled, scaled[1:]))
    return area / (len(scaled) - 1)


def error_km(place, lat: float, lon: float) -> float:
    """Great-circle distance between a resolved place's point and the gold point (the maximum if unresolved)."""
    if place is None:
        return MAX_ERROR_KM
    return great_circle((place.lat, place.lon), (lat, lon)).km


def shape_error_km(place, lat: float, lon: float) -> float:
    """As error_km, but 0 when the place is a region (polygon) whose shape covers the gold point."""
    if place is not None and place.geometry and place.geometry.get("type") in ("Polygon", "MultiPolygon"):
        from shapely.geometry import Point

        from mapapp.geoparse.resolve import region_shape

        geometry = region_shape(place)
        if geometry is not None and geometry.covers(Point(lon, lat)):
            return 0.0
    return error_km(place, lat, lon)


def evaluate_corpus(parser, corpus: Corpus, *, demonyms: bool | None = None, progress: bool = False) -> Scores:
    """Parse every document and score strict-span recognition, then resolution of the correctly found ones."""
    from tqdm import tqdm

    with_demonyms = corpus.demonyms if demonyms is None else demonyms
    scores = Scores()
    for document in tqdm(corpus.documents, desc=corpus.name, unit="doc", disable=not progress):
        mentions = [m for m in parser.parse(document.text) if with_demonyms or m.kind == "place"]
        found = {(m.start, m.end): m for m in mentions}
        scores.predicted += len(found)
        scores.gold += len(document.toponyms)
        for toponym in document.toponyms:
            mention = found.get((toponym.start, toponym.end))
            if mention is None:
                continue
            scores.true_positives += 1
            if toponym.lat is not None and toponym.lon is not None:
                scores.errors_km.append(error_km(mention.place, toponym.lat, toponym.lon))
                scores.shape_errors_km.append(shape_error_km(mention.place, toponym.lat, toponym.lon))
    return scores


# -------------------------------------------------------------------------------------------- seed gold

@dataclass
class SeedResult:
    """The seed gold's verdict: expected (article, place) pairs found and resolved, and false positives."""

    expected: int = 0
    found: list[tuple[str, str]] = field(default_factory=list)
    resolved: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)
    false_positives: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Counts plus the details a developer needs to fix a miss."""
        return {"expected": self.expected, "found": len(self.found), "resolved": len(self.resolved),
                "false_positives": len(self.false_positives), "missing": self.missing, "wrong": self.wrong,
                "false_positive_mentions": self.false_positives}


def surface_key(text: str) -> str:
    """The seed gold's surface comparison: case-insensitive, a trailing 's or ’s ignored."""
    key = text.replace("\u2019", "'").casefold()
    return key[:-2] if key.endswith("'s") else key


def _point_within(place, lat: float, lon: float, tol_km: float) -> bool:
    return great_circle((place.lat, place.lon), (lat, lon)).km <= tol_km


def seed_place_is_right(place, spec: dict) -> bool:
    """gold.json's rule: country by ISO code; point within tol_km; region contains the probe point.

    A line answer (the Lachin corridor may be drawn as a road) cannot contain a point: like a point answer,
    it is right when it passes within tol_km of the probe.
    """
    if place is None:
        return False
    if spec["kind"] == "country":
        return (place.country_code or "").upper() == spec["cc"].upper()
    if spec["kind"] == "point" or place.geometry_type == "Point":
        return _point_within(place, spec["lat"], spec["lon"], spec["tol_km"])
    from shapely.geometry import Point, shape
    from shapely.ops import nearest_points

    probe = Point(spec["lon"], spec["lat"])
    try:
        geometry = shape(place.geometry)
    except (ValueError, TypeError, AttributeError, KeyError):
        return False
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry.buffer(0).contains(probe)
    nearest = nearest_points(geometry, probe)[0]
    return great_circle((nearest.y, nearest.x), (spec["lat"], spec["lon"])).km <= spec["tol_km"]


def load_seed_gold(path: str | Path) -> dict:
    """Read gold.json (the seed gold), checking the keys the scorer needs."""
    try:
        gold = json.loads(Path(path).read_text(encoding="utf-8"))
        gold["places"], gold["articles"]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedFile(f"not a seed gold file ({error})", path=str(path)) from None
    return gold


def evaluate_seeds(parser, gold: dict, articles_dir: str | Path) -> SeedResult:
    """Score the parser on the seed articles by the rule written in gold.json's "about"."""
    result = SeedResult()
    optional = {surface_key(s) for s in gold.get("optional_surfaces", [])}
    for filename, article in gold["articles"].items():
        with open(Path(articles_dir) / filename, encoding="utf-8", newline="") as handle:
            mentions = parser.parse(handle.read())
        by_surface: dict[str, list] = {}
        for mention in mentions:
            by_surface.setdefault(surface_key(mention.text), []).append(mention)
        expected_surfaces = set()
        for place_key, surfaces in article["expect"].items():
            result.expected += 1
            keys = {surface_key(s) for s in surfaces}
            expected_surfaces |= keys
            matching = [m for key in keys for m in by_surface.get(key, [])]
            if not matching:
                result.missing.append((filename, place_key))
                continue
            result.found.append((filename, place_key))
            bad = [m for m in matching if not seed_place_is_right(m.place, gold["places"][place_key])]
            if bad:
                got = bad[0].place.id if bad[0].place else "unresolved"
                result.wrong.append((filename, place_key, f"{bad[0].text}@{bad[0].start} -> {got}"))
            else:
                result.resolved.append((filename, place_key))
        for mention in mentions:
            key = surface_key(mention.text)
            if key not in expected_surfaces and key not in optional:
                result.false_positives.append((filename, f"{mention.text}@{mention.start}"))
    return result
