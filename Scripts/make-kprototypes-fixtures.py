#!/usr/bin/env python3
"""Generates the K-Prototypes / K-Modes reference fixtures in
Tests/StrataTests/Fixtures/kprototypes from the `kmodes` package (Huang 1998; de Vos).

Run once (needs numpy and kmodes 0.12.2; the tests themselves never need Python):

    pip install kmodes==0.12.2 numpy && python3 Scripts/make-kprototypes-fixtures.py

Each case writes <name>.csv (id, numeric columns as float32 values printed in shortest form so
that Strata reads the same float32 numbers kmodes sees as float64, categorical columns as
strings, optional weights w) and <name>.json (options and kmodes' result: labels, cost, n_iter,
numeric centroids, modes as category strings, gamma).

Parity is exact for runs that use no random numbers: K-Modes with init 'Cao' end to end, and
any run from explicit initial centers. (kmodes' random draws come from numpy's RNG, which
Strata does not reproduce.)

The weighted K-Prototypes case runs kmodes with its `_move_point_num` patched to move the
point's weight in the membership sum (kmodes 0.12.2 adds/subtracts 1 there although the initial
sums are weighted); the JSON notes whether the unpatched package gives the same result on it.
"""
import json
import os

import numpy as np
import kmodes
from kmodes import kprototypes as kp_module
from kmodes.kmodes import KModes
from kmodes.kprototypes import KPrototypes
from kmodes.util import encode_features

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataTests", "Fixtures", "kprototypes")

# Category labels in an order where code-point (= UTF-8 byte) order differs from a naive one.
VOCAB = ["red", "Blue", "green", "\u00c4rger", "_x", "10", "9", "blue"]


def f32s(v):
    return str(np.float32(v))


def make_cat(rng, labels, ncat, vocab_size, noise):
    """A categorical column correlated with `labels`."""
    vocab = VOCAB[:vocab_size]
    pref = rng.integers(0, vocab_size, size=labels.max() + 1)
    out = []
    for l in labels:
        if rng.random() < noise:
            out.append(vocab[rng.integers(0, vocab_size)])
        else:
            out.append(vocab[pref[l]])
    return np.array(out, dtype=object)


def make_data(seed, n, dn, dc, true_k, noise=0.3, vocab_sizes=None):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, true_k, size=n)
    centers = rng.normal(0, 3, size=(true_k, dn))
    Xnum = np.asarray(centers[labels] + rng.normal(0, 1.2, size=(n, dn)), dtype=np.float32)
    vs = vocab_sizes or [4 + (j % 4) for j in range(dc)]
    Xcat = np.column_stack([make_cat(rng, labels, dc, vs[j], noise) for j in range(dc)]) if dc else np.empty((n, 0), dtype=object)
    return rng, Xnum, Xcat


def write_csv(name, Xnum, Xcat, weights):
    n = Xcat.shape[0]
    ncols = [f"n{j}" for j in range(Xnum.shape[1])]
    ccols = [f"c{j}" for j in range(Xcat.shape[1])]
    with open(os.path.join(OUT, name + ".csv"), "w", encoding="utf-8") as fh:
        fh.write(",".join(["id"] + ncols + ccols + (["w"] if weights is not None else [])) + "\n")
        for i in range(n):
            row = [f"r{i}"] + [f32s(v) for v in Xnum[i]] + [str(v) for v in Xcat[i]]
            if weights is not None:
                row.append(f32s(weights[i]))
            fh.write(",".join(row) + "\n")
    return ncols, ccols


def decode(codes, enc_map):
    inv = [{v: k for k, v in m.items()} for m in enc_map]
    return [[str(inv[j][int(c)]) for j, c in enumerate(row)] for row in codes]


def kmodes_case(name, seed, n, dc, k, init, weighted=False, max_iter=100, note=""):
    rng, _, Xcat = make_data(seed, n, 0, dc, true_k=k, noise=0.5)
    weights = np.asarray(rng.uniform(0.1, 3.0, size=n), dtype=np.float32) if weighted else None
    init_modes = None
    init_arg = init
    if init == "explicit":
        rows = rng.choice(n, size=k, replace=False)
        init_modes = [[str(v) for v in Xcat[r]] for r in rows]
        enc, _ = encode_features(Xcat)
        init_arg = enc[rows]
    km = KModes(n_clusters=k, init=init_arg, n_init=1, max_iter=max_iter, random_state=0)
    km.fit(Xcat, sample_weight=None if weights is None else [float(w) for w in weights])
    _, ccols = write_csv(name, np.empty((n, 0), dtype=np.float32), Xcat, weights)
    case = {
        "note": note, "kmodes_version": kmodes.__version__, "model": "kmodes",
        "k": k, "max_iter": max_iter, "init": "cao" if init == "Cao" else init,
        "numeric_columns": [], "categorical_columns": ccols, "weighted": weighted,
        "init_centroids": None, "init_modes": init_modes, "gamma": None,
        "expected": {
            "labels": [int(v) for v in km.labels_], "cost": float(km.cost_), "n_iter": int(km.n_iter_),
            "modes": decode(km._enc_cluster_centroids, km._enc_map),
            "epoch_costs": [float(c) for c in km.epoch_costs_],
        },
    }
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as fh:
        json.dump(case, fh, indent=1, ensure_ascii=False)
    print(f"{name}: n={n} dc={dc} k={k} n_iter={km.n_iter_} cost={km.cost_}")


def weighted_memb_sum(point, to_clust, from_clust, cl_attr_sum, cl_memb_sum, sample_weight):
    """kmodes' _move_point_num with the membership sum moved by the point's weight."""
    for iattr, curattr in enumerate(point):
        cl_attr_sum[to_clust][iattr] += curattr * sample_weight
        cl_attr_sum[from_clust][iattr] -= curattr * sample_weight
    cl_memb_sum[to_clust] += sample_weight
    cl_memb_sum[from_clust] -= sample_weight
    return cl_attr_sum, cl_memb_sum


def fit_kproto(X, cat_idx, k, init, gamma, max_iter, weights):
    m = KPrototypes(n_clusters=k, init=init, n_init=1, gamma=gamma, max_iter=max_iter, random_state=0)
    m.fit(X, categorical=cat_idx, sample_weight=None if weights is None else [float(w) for w in weights])
    return m


def kproto_case(name, seed, n, dn, dc, k, gamma=None, weighted=False, max_iter=100, note=""):
    rng, Xnum, Xcat = make_data(seed, n, dn, dc, true_k=k)
    weights = np.asarray(rng.uniform(0.1, 3.0, size=n), dtype=np.float32) if weighted else None
    rows = rng.choice(n, size=k, replace=False)
    # Initial numeric centers: chosen rows moved a little (float32-representable).
    init_num = np.asarray(Xnum[rows] + rng.normal(0, 0.5, size=(k, dn)), dtype=np.float32)
    init_modes = [[str(v) for v in Xcat[r]] for r in rows]
    enc, _ = encode_features(Xcat)
    X = np.empty((n, dn + dc), dtype=object)
    X[:, :dn] = Xnum.astype(np.float64)
    X[:, dn:] = Xcat
    cat_idx = list(range(dn, dn + dc))
    init = [init_num.astype(np.float64), enc[rows]]
    extra = ""
    if weighted:
        original = kp_module._move_point_num
        plain = fit_kproto(X, cat_idx, k, [a.copy() for a in init], gamma, max_iter, weights)
        kp_module._move_point_num = weighted_memb_sum
        try:
            m = fit_kproto(X, cat_idx, k, [a.copy() for a in init], gamma, max_iter, weights)
        finally:
            kp_module._move_point_num = original
        same = bool(np.array_equal(plain.labels_, m.labels_)) and plain.cost_ == m.cost_
        extra = f" Unpatched kmodes gives {'the same' if same else 'a different'} result (cost {plain.cost_!r})."
    else:
        m = fit_kproto(X, cat_idx, k, init, gamma, max_iter, weights)
    ncols, ccols = write_csv(name, Xnum, Xcat, weights)
    case = {
        "note": note + extra, "kmodes_version": kmodes.__version__, "model": "kprototypes",
        "k": k, "max_iter": max_iter, "init": "explicit",
        "numeric_columns": ncols, "categorical_columns": ccols, "weighted": weighted,
        "init_centroids": [[float(f32s(v)) for v in r] for r in init_num], "init_modes": init_modes,
        "gamma_given": gamma,
        "gamma": float(m.gamma),
        "expected": {
            "labels": [int(v) for v in m.labels_], "cost": float(m.cost_), "n_iter": int(m.n_iter_),
            "centroids": m._enc_cluster_centroids[0].tolist(),
            "modes": decode(m._enc_cluster_centroids[1], m._enc_map),
            "epoch_costs": [float(c) for c in m.epoch_costs_],
        },
    }
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as fh:
        json.dump(case, fh, indent=1, ensure_ascii=False)
    print(f"{name}: n={n} dn={dn} dc={dc} k={k} gamma={m.gamma!r} n_iter={m.n_iter_} cost={m.cost_!r}{extra}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    kmodes_case("kmodes_cao", 2, 500, 4, 6, "Cao", note="K-Modes, init Cao (deterministic): end-to-end parity")
    kmodes_case("kmodes_cao_weighted", 12, 250, 5, 3, "Cao", weighted=True, note="K-Modes, init Cao, sample weights")
    kmodes_case("kmodes_explicit", 3, 400, 3, 5, "explicit", note="K-Modes from explicit initial modes")
    kmodes_case("kmodes_cao_2iter", 14, 300, 4, 4, "Cao", max_iter=2, note="K-Modes, init Cao, stopped at max_iter 2 (4 iterations otherwise)")
    kproto_case("kproto_default_gamma", 5, 400, 3, 2, 4, note="K-Prototypes, explicit initial centers, default gamma")
    kproto_case("kproto_gamma", 6, 350, 2, 3, 3, gamma=2.5, note="K-Prototypes, explicit centers, gamma 2.5")
    kproto_case("kproto_weighted", 7, 300, 3, 2, 4, weighted=True, note="K-Prototypes, explicit centers, sample weights.")
    kproto_case("kproto_1iter", 8, 500, 4, 3, 5, max_iter=1, note="K-Prototypes, explicit centers, max_iter 1")
