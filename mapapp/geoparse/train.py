"""Fitting the geoparser's models on annotated corpora, and validation that predicts unseen performance.

`fit(gazetteer, corpora)` parses the training documents, labels every span the recogniser proposed
(a strict match with a gold toponym) and every candidate of the names found (within 161 km of the gold
point), and fits, with scikit-learn and fixed seeds:

1. the span model: logistic regression on the span features; its threshold is the one that maximises F1
   on the training documents (gold toponyms the recogniser never proposed count as misses);
2. the candidate ranker: pairwise logistic regression (no intercept) on differences between the features
   of the right candidate and of each wrong one. Context features depend on the ranker's own readings of
   the other names, so the ranker is refitted `ROUNDS` times, each time on features collected with the
   previous fit, starting from "the most populous place" (weight 1 on log population, nothing else);
3. the two confidence levels from which a reading joins the article's geography, chosen from a small
   grid by Acc@161 on the training documents.

`cross_corpus` fits without each corpus in turn and scores it; `cross_validate` splits one corpus by
document into k folds (seeded shuffle) and scores each fold with a model fitted on the others.
Only this module needs scikit-learn (`mapapp train`, `mapapp evaluate --cross/--folds`).
"""
from __future__ import annotations

import random

from mapapp.geoparse.evaluate import (
    ACCURACY_KM,
    Corpus,
    Scores,
    error_km,
    evaluate_corpus,
)
from mapapp.geoparse.model import CANDIDATE_FEATURES, SPAN_FEATURES, Model

ROUNDS = 3
SEED = 8
#: Inverse regularisation strengths of the span model and of the ranker (chosen by cross-corpus validation:
#: a weakly regularised span model transfers from news to tweets better, 0.747 against 0.703 F1 at C=1).
SPAN_C = 10.0
RANK_C = 1.0
#: Confidence levels tried for the article's geography (first round, second round).
CONTEXT_GRID = ((0.9, 0.5), (0.8, 0.5), (0.9, 0.3), (0.7, 0.4))


def start_model(span_weights=None, threshold=0.5) -> Model:
    """Where fitting starts: spans as the rules say, candidates by population (also a stand-in while fitting)."""
    weights = [0.0] * len(CANDIDATE_FEATURES)
    weights[CANDIDATE_FEATURES.index("log_population")] = 1.0
    spans = span_weights or tuple(1.0 if name == "rule_yes" else 0.0 for name in SPAN_FEATURES)
    return Model(tuple(spans), threshold, tuple(weights))


def _documents(corpora: list[Corpus]):
    for corpus in corpora:
        for document in corpus.documents:
            yield corpus, document


def collect(gazetteer, corpora: list[Corpus], model: Model, *, spans: bool = True):
    """(span rows, span labels, missed gold spans, ranking groups) of the corpora parsed with `model`."""
    from mapapp.geoparse.parser import Geoparser, Trace

    parser = Geoparser(gazetteer, model=model)
    rows, labels, missed, groups = [], [], 0, []
    for corpus, document in _documents(corpora):
        trace = Trace()
        parser.parse(document.text, trace=trace)
        gold = {(t.start, t.end): t for t in document.toponyms}
        if spans:
            proposed = set()
            for start, end, features in trace.spans:
                proposed.add((start, end))
                rows.append([float(x) for x in features])
                labels.append(int((start, end) in gold))
            # Gold toponyms never proposed as place spans (demonyms are kept by rule, not by this model).
            missed += sum(1 for where in gold if where not in proposed)
        for positions, record in trace.candidates:
            for where in positions:
                toponym = gold.get(where)
                if toponym is None or toponym.lat is None or not record:
                    continue
                errors = [error_km(place, toponym.lat, toponym.lon) for place, _ in record]
                best = min(range(len(record)), key=errors.__getitem__)
                if errors[best] > ACCURACY_KM:
                    continue
                wrong = [record[i][1] for i, error in enumerate(errors) if error > ACCURACY_KM]
                if wrong:
                    groups.append((record[best][1], wrong))
    return rows, labels, missed, groups


def fit_span_model(rows, labels, missed: int) -> tuple[tuple[float, ...], float]:
    """Logistic-regression weights of the span features and the F1-maximising threshold."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x, y = np.asarray(rows, dtype=float), np.asarray(labels)
    classifier = LogisticRegression(C=SPAN_C, fit_intercept=False, max_iter=5000, random_state=SEED)
    classifier.fit(x, y)
    weights = tuple(float(w) for w in classifier.coef_[0])
    probabilities = 1 / (1 + np.exp(-(x @ np.asarray(weights))))
    positives = int(y.sum()) + missed
    best, threshold = -1.0, 0.5
    for candidate in np.round(np.arange(0.05, 0.951, 0.01), 2):
        chosen = probabilities >= candidate
        tp = int((chosen & (y == 1)).sum())
        f1 = 2 * tp / (int(chosen.sum()) + positives) if positives else 0.0
        if f1 > best + 1e-12:
            best, threshold = f1, float(candidate)
    return weights, threshold


def fit_ranker(groups) -> tuple[float, ...]:
    """Pairwise logistic-regression weights of the candidate features (right minus wrong, both ways)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    differences = []
    for right, wrongs in groups:
        right = np.asarray(right, dtype=float)
        for wrong in wrongs:
            differences.append(right - np.asarray(wrong, dtype=float))
    x = np.asarray(differences)
    x = np.vstack([x, -x])
    y = np.concatenate([np.ones(len(differences)), np.zeros(len(differences))])
    ranker = LogisticRegression(C=RANK_C, fit_intercept=False, max_iter=5000, random_state=SEED)
    ranker.fit(x, y)
    return tuple(float(w) for w in ranker.coef_[0])


def _resolution_accuracy(gazetteer, corpora, model) -> float:
    from mapapp.geoparse.parser import Geoparser

    parser = Geoparser(gazetteer, model=model)
    total = Scores()
    for corpus in corpora:
        scores = evaluate_corpus(parser, corpus)
        total.errors_km += scores.errors_km
    return total.accuracy_161


def fit(gazetteer, corpora: list[Corpus], *, rounds: int = ROUNDS, progress=None) -> Model:
    """Fit the span model, the ranker and the context levels on `corpora` (deterministic)."""
    say = progress or (lambda message: None)
    model = start_model()
    rows, labels, missed, groups = collect(gazetteer, corpora, model)
    span_weights, threshold = fit_span_model(rows, labels, missed)
    say(f"span model: {len(rows)} spans, threshold {threshold}")
    model = start_model(span_weights, threshold)
    for number in range(rounds):
        if number:
            _, _, _, groups = collect(gazetteer, corpora, model, spans=False)
        weights = fit_ranker(groups)
        model = Model(span_weights, threshold, weights, model.sure, model.likely)
        say(f"ranker round {number + 1}: {len(groups)} names")
    best = None
    for sure, likely in CONTEXT_GRID:
        candidate = Model(span_weights, threshold, model.candidate_weights, sure, likely)
        accuracy = _resolution_accuracy(gazetteer, corpora, candidate)
        if best is None or accuracy > best[0] + 1e-12:
            best = (accuracy, candidate)
    say(f"context levels: {best[1].sure}/{best[1].likely} (training Acc@161 {best[0]:.4f})")
    return best[1]


def split_folds(corpus: Corpus, k: int, seed: int = SEED) -> list[Corpus]:
    """The corpus cut into k parts by document, after a seeded shuffle."""
    order = list(range(len(corpus.documents)))
    random.Random(seed).shuffle(order)
    return [Corpus(f"{corpus.name}[{fold + 1}/{k}]", [corpus.documents[i] for i in order[fold::k]],
                   corpus.demonyms) for fold in range(k)]


def _add(total: Scores, scores: Scores) -> None:
    total.true_positives += scores.true_positives
    total.predicted += scores.predicted
    total.gold += scores.gold
    total.errors_km += scores.errors_km
    total.shape_errors_km += scores.shape_errors_km


def cross_corpus(gazetteer, corpora: list[Corpus], *, progress=None) -> dict[str, Scores]:
    """Each corpus scored by a model fitted on all the others."""
    from mapapp.geoparse.parser import Geoparser

    results = {}
    for held_out in corpora:
        others = [corpus for corpus in corpora if corpus is not held_out]
        model = fit(gazetteer, others, progress=progress)
        results[held_out.name] = evaluate_corpus(Geoparser(gazetteer, model=model), held_out)
    return results


def cross_validate(gazetteer, corpus: Corpus, k: int = 5, *, seed: int = SEED, progress=None) -> Scores:
    """Micro-averaged scores of k folds of `corpus`, each scored by a model fitted on the other folds."""
    from mapapp.geoparse.parser import Geoparser

    folds = split_folds(corpus, k, seed)
    total = Scores()
    for number, fold in enumerate(folds):
        training = Corpus(corpus.name, [d for other in folds if other is not fold for d in other.documents],
                          corpus.demonyms)
        model = fit(gazetteer, [training], progress=progress)
        _add(total, evaluate_corpus(Geoparser(gazetteer, model=model), fold))
    return total
