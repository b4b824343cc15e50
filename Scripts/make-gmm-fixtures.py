#!/usr/bin/env python3
"""Generates Gaussian-mixture reference fixtures from scikit-learn into
Tests/StrataTests/Fixtures/gmm_*.json (the tests never need Python).

    pip install scikit-learn numpy && python3 Scripts/make-gmm-fixtures.py

For each covariance type: float32-representable data, initial one-hot labels, and the weights,
means and precisions those labels imply (reg_covar added) passed to scikit-learn as *_init;
tol = 0 and a fixed max_iter, so both sides run the same number of EM iterations.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.mixture import GaussianMixture

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataTests", "Fixtures")
REG = 1e-6


def init_params(X, labels, k, ctype):
    n, d = X.shape
    resp = np.zeros((n, k))
    resp[np.arange(n), labels] = 1
    nk = resp.sum(0) + 10 * np.finfo(float).eps
    means = resp.T @ X / nk[:, None]
    if ctype == "full":
        cov = np.array([((resp[:, c:c + 1] * (X - means[c])).T @ (X - means[c])) / nk[c] + REG * np.eye(d) for c in range(k)])
        prec = np.array([np.linalg.inv(c) for c in cov])
    elif ctype == "tied":
        cov = (X.T @ X - (nk * means.T) @ means) / nk.sum() + REG * np.eye(d)
        prec = np.linalg.inv(cov)
    else:
        diag = (resp.T @ (X * X)) / nk[:, None] - 2 * means * (resp.T @ X) / nk[:, None] + means ** 2 + REG
        cov = diag if ctype == "diag" else diag.mean(1)
        prec = 1 / cov
    return nk / nk.sum(), means, prec


def main():
    rng = np.random.default_rng(11)
    centers = rng.normal(0, 3, size=(3, 4))
    X = np.vstack([c + rng.normal(0, 1, size=(80, 4)) @ rng.normal(0, 0.8, size=(4, 4)) for c in centers])
    X = np.array([[float(str(np.float32(v))) for v in row] for row in X])
    labels = np.repeat(np.arange(3), 80)
    flip = rng.random(len(X)) < 0.25
    labels[flip] = rng.integers(0, 3, size=flip.sum())
    for ctype in ["full", "diag", "tied", "spherical"]:
        w, m, p = init_params(X, labels, 3, ctype)
        gm = GaussianMixture(n_components=3, covariance_type=ctype, tol=0, max_iter=8, reg_covar=REG,
                             weights_init=w, means_init=m, precisions_init=p, random_state=0)
        gm.fit(X)
        out = {"sklearn_version": sklearn.__version__, "covariance_type": ctype, "k": 3, "max_iter": 8, "reg_covar": REG,
               "data": X.tolist(), "init_labels": labels.tolist(),
               "expected": {"lower_bound": float(gm.lower_bound_), "n_iter": int(gm.n_iter_), "weights": gm.weights_.tolist(),
                            "means": gm.means_.tolist(), "covariances": np.asarray(gm.covariances_).ravel().tolist(),
                            "bic": float(gm.bic(X)), "aic": float(gm.aic(X)), "labels": gm.predict(X).tolist()}}
        with open(os.path.join(OUT, f"gmm_{ctype}.json"), "w") as fh:
            json.dump(out, fh)
        print(ctype, gm.n_iter_, gm.lower_bound_, gm.bic(X))


if __name__ == "__main__":
    main()
