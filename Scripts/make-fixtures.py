#!/usr/bin/env python3
"""Generates the K-Means reference fixtures in Tests/StrataTests/Fixtures from scikit-learn.

Run once (needs numpy and scikit-learn; the tests themselves never need Python):

    pip install scikit-learn numpy && python3 Scripts/make-fixtures.py

Each case writes <name>.csv (data; float32 values printed in shortest form, so Strata reads the
exact same float32 numbers) and <name>.json (options and scikit-learn's result: labels,
inertia, n_iter, centers). scikit-learn runs in float64 on those float32 values, an independent
and more precise reference than our float32 kernels.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataTests", "Fixtures")


def f32(a):
    return np.asarray(a, dtype=np.float32)


def write_case(name, X, k, init, max_iter, tol=0.0, weights=None, ids=None, note=""):
    X = f32(X)
    init = f32(init)
    km = KMeans(n_clusters=k, init=init.astype(np.float64), n_init=1, max_iter=max_iter, tol=tol,
                algorithm="lloyd", random_state=0)
    km.fit(X.astype(np.float64), sample_weight=None if weights is None else weights.astype(np.float64))
    d = X.shape[1]
    cols = [f"f{j}" for j in range(d)]
    with open(os.path.join(OUT, name + ".csv"), "w") as fh:
        head = (["id"] if ids is not None else []) + cols + (["w"] if weights is not None else [])
        fh.write(",".join(head) + "\n")
        for i in range(X.shape[0]):
            row = ([ids[i]] if ids is not None else []) + [str(v) for v in X[i]]
            if weights is not None:
                row.append(str(np.float32(weights[i])))
            fh.write(",".join(row) + "\n")
    case = {
        "note": note,
        "sklearn_version": sklearn.__version__,
        "k": k, "max_iter": max_iter, "tol": tol,
        "columns": cols,
        "weighted": weights is not None,
        "init": [[float(str(v)) for v in r] for r in init],
        "expected": {
            "labels": km.labels_.tolist(),
            "inertia": float(km.inertia_),
            "n_iter": int(km.n_iter_),
            "centers": km.cluster_centers_.tolist(),
        },
    }
    with open(os.path.join(OUT, name + ".json"), "w") as fh:
        json.dump(case, fh, indent=1)
    print(f"{name}: n={X.shape[0]} d={d} k={k} n_iter={km.n_iter_} inertia={km.inertia_:.6f}")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261124)

    # 1. Overlapping blobs, explicit init, run to convergence.
    centers = rng.normal(0, 4, size=(4, 5))
    X = np.vstack([c + rng.normal(0, 1.5, size=(100, 5)) for c in centers])
    rng.shuffle(X)
    init = X[rng.choice(len(X), 4, replace=False)]
    write_case("blobs_converge", X, 4, init, max_iter=100, note="runs to strict convergence")

    # 2. Same data, stopped after 3 iterations (not converged; labels must match final centers).
    write_case("blobs_3iter", X, 4, init, max_iter=3, note="fixed iteration count, not converged")

    # 3. Sample weights and string ids.
    Xw = np.vstack([c + rng.normal(0, 1.0, size=(100, 3)) for c in rng.normal(0, 3, size=(3, 3))])
    w = rng.uniform(0.25, 3.0, size=len(Xw)).astype(np.float32)
    ids = [f"cust-{i:04d}" for i in range(len(Xw))]
    initw = Xw[[5, 150, 250]] + 0.5
    write_case("weighted", Xw, 3, initw, max_iter=50, weights=w, ids=ids, note="weighted samples")

    # 4. An initial center far from all data: empty cluster relocated at iteration 1.
    Xe = rng.normal(0, 1, size=(200, 2))
    Xe[:100] += 6
    inite = np.array([[6, 6], [0, 0], [100, 100]])
    write_case("empty_cluster", Xe, 3, inite, max_iter=50, note="one empty cluster relocated to the farthest point")

    # 5. Uniform data in 8-d, many iterations before convergence, with the default tolerance.
    Xu = rng.uniform(-1, 1, size=(600, 8))
    initu = Xu[rng.choice(len(Xu), 6, replace=False)]
    write_case("uniform_tol", Xu, 6, initu, max_iter=300, tol=1e-4, note="default tolerance on slowly converging data")

    # 6. k = 1 and a many-cluster case (exercises the GEMM route at k*d > 2048 in tests).
    write_case("single_cluster", X, 1, X[:1], max_iter=20, note="k = 1")
    Xm = rng.normal(0, 1, size=(960, 40)) + np.repeat(rng.normal(0, 0.6, size=(60, 40)), 16, axis=0)
    initm = Xm[rng.choice(len(Xm), 60, replace=False)]
    write_case("many_clusters", Xm, 60, initm, max_iter=6, note="k*d = 2400 (GEMM route), fixed 6 iterations")


if __name__ == "__main__":
    main()
