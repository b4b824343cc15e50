#!/usr/bin/env python3
"""Generates PCA reference fixtures from scikit-learn (full SVD solver) into
Tests/StrataTests/Fixtures/pca_*.json (the tests never need Python).

    pip install scikit-learn numpy && python3 Scripts/make-pca-fixtures.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.decomposition import PCA

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataTests", "Fixtures")


def main():
    rng = np.random.default_rng(3)
    n, d = 400, 6
    basis = np.linalg.qr(rng.normal(size=(d, d)))[0]
    scales = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2])
    X = (rng.normal(size=(n, d)) * scales) @ basis.T + rng.normal(0, 10, size=d)
    X = np.array([[float(str(np.float32(v))) for v in row] for row in X])
    cases = {}
    for name, nc, whiten in [("count3", 3, False), ("variance90", 0.9, False), ("whiten4", 4, True), ("all", 6, False)]:
        p = PCA(n_components=nc, svd_solver="full", whiten=whiten).fit(X)
        cases[name] = {"n_components_arg": nc, "whiten": whiten, "n_components": int(p.n_components_),
                       "components": p.components_.tolist(), "explained_variance": p.explained_variance_.tolist(),
                       "explained_variance_ratio": p.explained_variance_ratio_.tolist(),
                       "singular_values": p.singular_values_.tolist(), "mean": p.mean_.tolist(),
                       "noise_variance": float(p.noise_variance_), "transform_head": p.transform(X[:5]).tolist(),
                       "inverse_head": p.inverse_transform(p.transform(X[:5])).tolist()}
    with open(os.path.join(OUT, "pca_cases.json"), "w") as fh:
        json.dump({"sklearn_version": sklearn.__version__, "data": X.tolist(), "cases": cases}, fh)
    for k, v in cases.items():
        print(k, v["n_components"], [round(x, 4) for x in v["explained_variance"]])


if __name__ == "__main__":
    main()
