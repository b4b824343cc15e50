#!/usr/bin/env python3
"""K-Means on Spark with Strata doing the per-partition work.

Each partition is converted ONCE to float32 row blocks and cached (MEMORY_AND_DISK); every
iteration then pipes the cached bytes through `strata partial-stats` (binary: centers in,
per-cluster sums / counts / inertia out) and reduces the small results on the driver. Re-reading
or re-parsing the data each iteration, or piping CSV text, costs several times more than the
cached float32 blocks, so keep the cache.

    spark-submit Scripts/spark/strata_kmeans.py --input customers.parquet --features f0,f1,... \
        --k 8 --strata /opt/strata/bin/strata --out centers.json

The strata binary must exist at the same path on every executor (ship it with --files or bake it
into the image). Centers are initialized from a seeded sample (k-means++ on up to 100k rows,
computed by `strata kmeans --n-init 5` on the driver); then Lloyd iterations until the total squared center
shift is <= tol or --max-iter.
"""
import argparse, json, os, struct, subprocess, tempfile

import numpy as np


def partial_stats(strata, centers):
    k, d = centers.shape
    head = b"STRP" + struct.pack("<II", k, d) + centers.astype("<f4").tobytes()

    def run(blocks):
        p = subprocess.Popen([strata, "partial-stats"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        p.stdin.write(head)
        for b in blocks:
            p.stdin.write(b)
        p.stdin.close()
        out = p.stdout.read()
        if p.wait() != 0:
            raise RuntimeError("strata partial-stats failed")
        assert out[:4] == b"STRS"
        kk, dd, rows = struct.unpack("<IIQ", out[4:20])
        v = np.frombuffer(out[20:], dtype="<f8")
        yield (rows, v[: kk * dd].reshape(kk, dd), v[kk * dd: kk * dd + kk], v[-1])

    return run


def main():
    from pyspark.sql import SparkSession
    from pyspark import StorageLevel

    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--features", required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--strata", default="strata")
    ap.add_argument("--max-iter", type=int, default=50)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="centers.json")
    a = ap.parse_args()
    spark = SparkSession.builder.appName("strata-kmeans").getOrCreate()
    df = spark.read.parquet(a.input) if a.input.endswith(".parquet") else spark.read.csv(a.input, header=True, inferSchema=True)
    cols = a.features.split(",")

    def to_block(rows):
        arr = np.asarray([[float(r[c]) for c in cols] for r in rows], dtype="<f4")
        if len(arr):
            yield arr.tobytes()

    blocks = df.select(*cols).rdd.mapPartitions(to_block).persist(StorageLevel.MEMORY_AND_DISK)
    n = blocks.map(lambda b: len(b) // (4 * len(cols))).sum()
    # Initial centers: k-means++ by strata on a seeded sample, on the driver.
    sample = np.asarray(df.select(*cols).sample(False, min(1.0, 100000 / max(1, n)), a.seed).collect(), dtype="<f4")
    with tempfile.TemporaryDirectory() as t:
        np.save(os.path.join(t, "s.npy"), sample)
        r = subprocess.run([a.strata, "kmeans", "--input", os.path.join(t, "s.npy"), "--k", str(a.k), "--seed", str(a.seed), "--n-init", "5", "--json"],
                           check=True, capture_output=True)
    centers = np.asarray(json.loads(r.stdout)["centroids"], dtype="<f4")
    variance = float(np.var(sample, axis=0).mean())
    for it in range(1, a.max_iter + 1):
        parts = blocks.mapPartitions(partial_stats(a.strata, centers)).collect()
        sums = sum(p[1] for p in parts)
        counts = sum(p[2] for p in parts)
        inertia = sum(p[3] for p in parts)
        new = centers.astype("f8").copy()
        nz = counts > 0
        new[nz] = sums[nz] / counts[nz, None]
        shift = float(((new - centers) ** 2).sum())
        centers = new.astype("<f4")
        print(f"iteration {it}: inertia {inertia:.6g}, shift {shift:.3g}")
        if shift <= a.tol * variance:
            break
    json.dump({"k": a.k, "columns": cols, "centroids": centers.tolist(), "rows": int(n)}, open(a.out, "w"))


if __name__ == "__main__":
    main()
