#!/usr/bin/env python3
"""Generates the hierarchical / DBSCAN / HDBSCAN reference fixtures (issue 17).

Run once (needs numpy, scipy and scikit-learn; the tests never need Python):

    pip install numpy scipy scikit-learn && python3 Scripts/make-cluster-fixtures.py

Each case writes Tests/StrataTests/Fixtures/clustering/<name>.csv (float32 values in shortest
form, so Strata reads the same numbers scipy/scikit-learn saw in float64) and <name>.json
(the options and the reference result).
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import DBSCAN, HDBSCAN

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataTests", "Fixtures", "clustering")


def blobs(n, d, k, seed, spread=0.6, noise=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-6, 6, size=(k, d))
    lab = rng.integers(0, k, size=n)
    X = centers[lab] + rng.normal(scale=spread, size=(n, d)) * rng.uniform(0.5, 1.5, size=(k, 1))[lab]
    if noise:
        X = np.vstack([X, rng.uniform(-8, 8, size=(noise, d))])
    return np.asarray(X, dtype=np.float32)


def write_csv(name, X, weights=None):
    cols = [f"f{j}" for j in range(X.shape[1])]
    with open(os.path.join(OUT, name + ".csv"), "w") as fh:
        fh.write(",".join(cols + (["w"] if weights is not None else [])) + "\n")
        for i in range(X.shape[0]):
            row = [str(v) for v in X[i]]
            if weights is not None:
                row.append(str(np.float32(weights[i])))
            fh.write(",".join(row) + "\n")
    return cols


def dump(name, case):
    with open(os.path.join(OUT, name + ".json"), "w") as fh:
        json.dump(case, fh)


def hierarchical_case(name, X, method, k, threshold):
    cols = write_csv(name, X)
    Z = linkage(X.astype(np.float64), method=method)
    dump(name, {
        "scipy_version": scipy.__version__, "columns": cols, "linkage": method, "k": k, "distance_threshold": threshold,
        "expected": {
            "merges": Z.tolist(),
            "labels_k": (fcluster(Z, k, criterion="maxclust") - 1).tolist(),
            "labels_threshold": (fcluster(Z, threshold, criterion="distance") - 1).tolist(),
        },
    })
    print(f"{name}: n={len(X)} {method} heights[-3:]={Z[-3:, 2]}")


def dbscan_case(name, X, eps, min_samples, weights=None):
    cols = write_csv(name, X, weights)
    db = DBSCAN(eps=eps, min_samples=min_samples).fit(X.astype(np.float64), sample_weight=None if weights is None else weights.astype(np.float64))
    dump(name, {
        "sklearn_version": sklearn.__version__, "columns": cols, "eps": eps, "min_samples": min_samples, "weighted": weights is not None,
        "expected": {"labels": db.labels_.tolist(), "core_sample_indices": db.core_sample_indices_.tolist()},
    })
    print(f"{name}: n={len(X)} clusters={db.labels_.max() + 1} noise={(db.labels_ < 0).sum()} core={len(db.core_sample_indices_)}")


def hdbscan_case(name, X, min_cluster_size, min_samples=None):
    cols = write_csv(name, X)
    h = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit(X.astype(np.float64))
    dump(name, {
        "sklearn_version": sklearn.__version__, "columns": cols, "min_cluster_size": min_cluster_size, "min_samples": min_samples,
        "expected": {"labels": h.labels_.tolist(), "probabilities": h.probabilities_.tolist()},
    })
    print(f"{name}: n={len(X)} clusters={h.labels_.max() + 1} noise={(h.labels_ < 0).sum()}")


def main():
    os.makedirs(OUT, exist_ok=True)
    X = blobs(240, 3, 4, seed=1)
    for method, t in [("ward", 6.0), ("complete", 4.0), ("average", 2.5), ("single", 0.8)]:
        hierarchical_case(f"hier-{method}", X, method, 4, t)
    X2 = blobs(500, 2, 5, seed=2, spread=0.5, noise=60)
    dbscan_case("dbscan-blobs", X2, 0.45, 6)
    rng = np.random.default_rng(3)
    dbscan_case("dbscan-weighted", X2, 0.4, 5, weights=rng.uniform(0.2, 3.0, size=len(X2)).astype(np.float32))
    X3 = blobs(300, 4, 3, seed=4, spread=0.7, noise=30)
    dbscan_case("dbscan-4d", X3, 1.1, 8)
    hdbscan_case("hdbscan-blobs", X2, 15)
    hdbscan_case("hdbscan-minsamples", X3, 10, min_samples=4)


if __name__ == "__main__":
    main()
