#!/usr/bin/env python3
"""Generates clustering-metric reference values from scikit-learn into
Tests/StrataTests/Fixtures/metrics_*.json (the tests never need Python).

    pip install scikit-learn numpy && python3 Scripts/make-metric-fixtures.py

Each case holds float32-representable data (printed in shortest form), labels, and
scikit-learn's silhouette_score, silhouette_samples, davies_bouldin_score,
calinski_harabasz_score, and for label pairs adjusted_rand_score and adjusted_mutual_info_score.
"""
import json
import os

import numpy as np
import sklearn
from sklearn import metrics

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataTests", "Fixtures")


def clean(X):
    return np.array([[float(str(np.float32(v))) for v in row] for row in X], dtype=np.float64)


def case(name, X, labels, note):
    X = clean(X)
    labels = np.asarray(labels)
    out = {"note": note, "sklearn_version": sklearn.__version__, "data": X.tolist(), "labels": labels.tolist()}
    k = len(np.unique(labels))
    if 2 <= k <= len(X) - 1:
        out["silhouette"] = float(metrics.silhouette_score(X, labels))
        out["silhouette_samples"] = metrics.silhouette_samples(X, labels).tolist()
        out["davies_bouldin"] = float(metrics.davies_bouldin_score(X, labels))
        out["calinski_harabasz"] = float(metrics.calinski_harabasz_score(X, labels))
    centers = np.array([X[labels == c].mean(axis=0) for c in np.unique(labels)])
    idx = np.searchsorted(np.unique(labels), labels)
    out["inertia"] = float(((X - centers[idx]) ** 2).sum())
    with open(os.path.join(OUT, f"metrics_{name}.json"), "w") as fh:
        json.dump(out, fh)
    print(name, {k: v for k, v in out.items() if isinstance(v, float)})


def pair(name, a, b, note):
    out = {"note": note, "sklearn_version": sklearn.__version__, "a": list(map(int, a)), "b": list(map(int, b)),
           "adjusted_rand": float(metrics.adjusted_rand_score(a, b)),
           "adjusted_mutual_info": float(metrics.adjusted_mutual_info_score(a, b))}
    with open(os.path.join(OUT, f"labelpair_{name}.json"), "w") as fh:
        json.dump(out, fh)
    print(name, out["adjusted_rand"], out["adjusted_mutual_info"])


def main():
    rng = np.random.default_rng(5)
    centers = rng.normal(0, 3, size=(4, 3))
    X = np.vstack([c + rng.normal(0, 1.2, size=(60, 3)) for c in centers])
    labels = np.repeat(np.arange(4), 60)
    perm = rng.permutation(len(X))
    case("blobs", X[perm], labels[perm], "4 overlapping blobs, true labels")
    # Noisy labels with non-contiguous label values, a singleton cluster and duplicate points.
    X2 = rng.normal(0, 1, size=(150, 5))
    X2[10] = X2[11]
    X2[12] = X2[11]
    lab2 = rng.choice([3, 7, 9], size=150)
    lab2[0] = 42  # singleton
    case("noisy_singleton", X2, lab2, "random labels 3/7/9 plus a singleton (42) and duplicate rows")
    X3 = rng.normal(0, 1, size=(40, 2)) + np.repeat([[0, 0], [8, 8]], 20, axis=0)
    case("two_clusters", X3, np.repeat([0, 1], 20), "two separated clusters")

    a = rng.integers(0, 5, size=300)
    b = a.copy()
    flip = rng.random(300) < 0.3
    b[flip] = rng.integers(0, 6, size=flip.sum())
    pair("noisy", a, b, "30% of labels redrawn, 5 vs 6 classes")
    pair("permuted", a, (a + 2) % 5, "same partition, renamed labels")
    pair("independent", rng.integers(0, 4, size=200), rng.integers(0, 3, size=200), "independent labelings")
    pair("single", np.zeros(50, dtype=int), rng.integers(0, 3, size=50), "one cluster vs three")


if __name__ == "__main__":
    main()
