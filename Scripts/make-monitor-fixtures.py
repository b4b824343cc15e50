#!/usr/bin/env python3
"""Fixtures for drift monitoring (`strata monitor`), Tests/StrataTests/Fixtures/monitor/.

Writes a training table and new batches drawn from it or changed on purpose, and, computed
independently with numpy, every feature's decile edges and bin shares on the training rows and
the population stability index of each batch:

    PSI = sum over bins (a - e) * ln(a / e),  a, e: new and training share of the bin,
          a share of 0 replaced by EPS = 1e-4 (both sides);

numeric bins: right-closed bins between the training deciles (np.quantile, linear
interpolation, equal edges kept once; a value goes to bin np.searchsorted(edges, v, 'left')),
plus the missing values as their own bin; categorical bins: the training categories, then
"unseen", then missing. Values are parsed as float32 (as strata stores them), then compared in
float64.

    pip install numpy
    python3 Scripts/make-monitor-fixtures.py

Files:
    train.csv      1500 customers, 3 blobs, region (3 categories), a few empty cells
    same.csv       a fresh sample of the same distribution (no alert expected)
    shifted.csv    same distribution, `frequency` shifted (PSI alert on frequency only)
    cloud.csv      80% fresh sample + 20% a new cloud far from every blob (distance, share drift)
    unseen.csv     fresh sample with 5% of regions 'west' (unseen categories)
    expected.json  per batch and feature: edges, training proportions/missing, new shares, psi
"""
import json
import os

import numpy as np

EPS = 1e-4
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "StrataTests", "Fixtures", "monitor")
NUMERIC = ["recency_days", "frequency", "monetary"]
CENTERS = np.array([[20.0, 12.0, 300.0], [120.0, 3.0, 80.0], [300.0, 1.0, 40.0]])
SPREAD = np.array([8.0, 1.5, 40.0])
REGIONS = ["north", "south", "east"]


def sample(rng, n, missing=6):
    blob = rng.integers(0, 3, n)
    x = CENTERS[blob] + rng.normal(size=(n, 3)) * SPREAD
    region = np.array([REGIONS[(b + rng.integers(0, 2)) % 3] for b in blob], dtype=object)
    cells = x.round(2).astype(object)
    for i in rng.choice(n, missing, replace=False):
        cells[i, 2] = ""          # missing monetary
    for i in rng.choice(n, missing // 2, replace=False):
        region[i] = ""            # missing region
    return cells, region


def write(name, cells, region):
    with open(os.path.join(OUT, name), "w") as f:
        f.write("customer_id," + ",".join(NUMERIC) + ",region\n")
        for i, (row, r) in enumerate(zip(cells, region)):
            f.write(f"c{i}," + ",".join("" if v == "" else f"{v:.2f}" for v in row) + f",{r}\n")


def as_float32(column):
    """Cells as strata reads them: float32, empty -> NaN; then float64."""
    return np.array([np.nan if v == "" else np.float32(f"{v:.2f}") for v in column], dtype=np.float32).astype(np.float64)


def psi(expected, actual):
    e = np.where(expected > 0, expected, EPS)
    a = np.where(actual > 0, actual, EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric_bins(train):
    present = train[~np.isnan(train)]
    qs = np.quantile(present, np.arange(1, 10) / 10.0)
    edges = []
    for q in qs:
        if not edges or q > edges[-1]:
            edges.append(float(q))
    return np.array(edges)


def numeric_shares(values, edges):
    n = len(values)
    present = values[~np.isnan(values)]
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
    return counts / n, float(np.isnan(values).sum()) / n


def categorical_shares(values, categories):
    n = len(values)
    counts = np.array([sum(1 for v in values if v == c) for c in categories], dtype=np.float64)
    unseen = sum(1 for v in values if v != "" and v not in categories)
    missing = sum(1 for v in values if v == "")
    return counts / n, unseen / n, missing / n


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261201)
    n = 1500
    train_cells, train_region = sample(rng, n)
    batches = {}
    batches["same"] = sample(rng, n)
    cells, region = sample(rng, n)
    shifted = cells.copy()
    for i in range(n):
        shifted[i, 1] = round(shifted[i, 1] + 6.0, 2)
    batches["shifted"] = (shifted, region)
    cells, region = sample(rng, n)
    far = rng.choice(n, n // 5, replace=False)
    for i in far:
        point = np.array([650.0, 30.0, 1500.0]) + rng.normal(size=3) * SPREAD
        cells[i, 0], cells[i, 1], cells[i, 2] = (round(float(v), 2) for v in point)
    batches["cloud"] = (cells, region)
    cells, region = sample(rng, n)
    region = region.copy()
    for i in rng.choice(n, n // 20, replace=False):
        region[i] = "west"
    batches["unseen"] = (cells, region)

    write("train.csv", train_cells, train_region)
    for name, (c, r) in batches.items():
        write(f"{name}.csv", c, r)

    expected = {"epsilon": EPS, "training": {}, "batches": {}}
    train_cols = {name: as_float32(train_cells[:, j]) for j, name in enumerate(NUMERIC)}
    edges = {name: numeric_bins(col) for name, col in train_cols.items()}
    for name, col in train_cols.items():
        props, missing = numeric_shares(col, edges[name])
        expected["training"][name] = {"edges": edges[name].tolist(), "proportions": props.tolist(), "missing": missing}
    counts = {}
    for v in train_region:
        if v != "":
            counts[v] = counts.get(v, 0) + 1
    categories = sorted(counts, key=lambda c: (-counts[c], c.encode()))
    tprops, _, tmissing = categorical_shares(train_region, categories)
    expected["training"]["region"] = {"categories": categories, "proportions": tprops.tolist(), "missing": tmissing}

    for bname, (cells, region) in batches.items():
        out = {}
        for j, name in enumerate(NUMERIC):
            e = expected["training"][name]
            props, missing = numeric_shares(as_float32(cells[:, j]), edges[name])
            out[name] = {"proportions": props.tolist(), "missing": missing,
                         "psi": psi(np.array(e["proportions"] + [e["missing"]]), np.append(props, missing))}
        props, unseen, missing = categorical_shares(region, categories)
        nonmissing = sum(1 for v in region if v != "")
        out["region"] = {"proportions": props.tolist(), "unseen": unseen, "missing": missing,
                         "unseen_share_of_values": unseen * len(region) / nonmissing,
                         "psi": psi(np.append(tprops, [0.0, tmissing]), np.append(props, [unseen, missing]))}
        expected["batches"][bname] = out
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    for bname, out in expected["batches"].items():
        print(bname, {k: round(v["psi"], 4) for k, v in out.items()})


if __name__ == "__main__":
    main()
