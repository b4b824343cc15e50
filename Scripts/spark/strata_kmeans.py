#!/usr/bin/env python3
"""K-Means on Spark with Strata doing the per-partition work.

Each partition is converted ONCE to float32 row blocks and cached (MEMORY_AND_DISK); every
iteration then pipes the cached bytes through `strata partial-stats` (binary: centers in,
per-cluster sums / counts / inertia out) and reduces the small results on the driver in partition
order. Re-reading or re-parsing the data each iteration, or piping CSV text, costs several times
more than the cached float32 blocks, so keep the cache.

    spark-submit Scripts/spark/strata_kmeans.py --strata ./strata --input customers.parquet \\
        --features f0,f1,... --id-column customer_id --k 8 > result.json

The binary: `--strata PATH` (default: `strata` on the driver's PATH) is checked on the driver
before Spark reads anything, then shipped to the executors with `SparkContext.addFile` and found
there with `SparkFiles.get`, so nothing has to be installed on the workers (YARN, Kubernetes,
standalone, local). It must be a Linux x86-64 build whose shared libraries the executors have
(`Scripts/gpu-bundle`-style bundles: set `spark.executorEnv.LD_LIBRARY_PATH`).

As `strata kmeans`:
- initial centers: k-means++ (`strata kmeans --n-init 5` on the driver) on a seeded sample of at
  most --sample-rows rows chosen by a hash of each row's key (--id-column, else the row's position
  in the input), so the sample, and the result, do not depend on how Spark partitions the data
  (CSV or Parquet, any partition count); or --init FILE.csv (centers, as `strata kmeans --init`);
- Lloyd iterations keep the centers in float64 and stop when the total squared center shift is
  <= tol x the mean feature variance of all rows (so --tol 0 stops when the centers stop
  moving), or at --max-iter;
- an empty cluster takes the row farthest from its center (largest distance first, lowest row
  position on ties), that row leaving its cluster;
- a final pass gives the inertia of the returned centers.

stdout: one JSON object (k, columns, centroids, inertia, n_iter, converged, rows, init_centroids,
seconds); progress goes to stderr.
"""
import argparse, hashlib, json, os, shutil, struct, subprocess, sys, tempfile, time

import numpy as np

MASK64 = (1 << 64) - 1


def log(msg):
    print(f"[strata-spark] {msg}", file=sys.stderr, flush=True)


def splitmix64(x):
    """Vectorized SplitMix64 finalizer over uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def key_of_id(value):
    """A row key from its id: the first 8 bytes of SHA-256 of the id's text."""
    return int.from_bytes(hashlib.sha256(str(value).encode()).digest()[:8], "little")


def resolve_binary(name):
    path = name if os.sep in name else shutil.which(name)
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        sys.exit(f"strata_kmeans.py: error: the strata binary '{name}' was not found or is not executable; give --strata PATH")
    r = subprocess.run([path, "--version"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"strata_kmeans.py: error: '{path} --version' failed: {r.stderr.strip()}")
    return os.path.abspath(path)


def partial_stats(binary_name, centers32):
    k, d = centers32.shape
    head = b"STRP" + struct.pack("<II", k, d) + centers32.astype("<f4").tobytes()

    def run(index, blocks):
        from pyspark import SparkFiles
        rows = b"".join(b for _, _, b in blocks)
        p = subprocess.run([SparkFiles.get(binary_name), "partial-stats"], input=head + rows, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("strata partial-stats failed: " + p.stderr.decode(errors="replace"))
        out = p.stdout
        assert out[:4] == b"STRS"
        kk, dd, n = struct.unpack("<IIQ", out[4:20])
        v = np.frombuffer(out[20:], dtype="<f8")
        yield (index, n, v[: kk * dd].reshape(kk, dd), v[kk * dd: kk * dd + kk], float(v[-1]))

    return run


def farthest(centers32, count):
    """Per partition: the `count` rows farthest from their nearest center, as (dist, position, label, row)."""
    c = centers32.astype(np.float32)

    def run(index, blocks):
        for _, offset, b in blocks:
            x = np.frombuffer(b, dtype="<f4").reshape(-1, c.shape[1])
            if len(x) == 0:
                continue
            # (x - c)^2 summed in feature order in float32, as the CPU kernel does.
            dist = np.zeros((len(x), len(c)), dtype=np.float32)
            for j in range(c.shape[1]):
                t = x[:, j:j + 1] - c[None, :, j]
                dist += t * t
            label = dist.argmin(axis=1)
            best = dist[np.arange(len(x)), label]
            order = np.lexsort((np.arange(len(x)), -best))[:count]
            for i in order:
                yield (float(best[i]), offset + int(i), int(label[i]), x[i].astype(np.float64))

    return run


def read_centers(path):
    """Centers from a CSV file, with or without a header row (as `strata kmeans --init FILE.csv`)."""
    lines = [l.strip() for l in open(path) if l.strip()]
    def numeric(line):
        try:
            [float(v) for v in line.split(",")]
            return True
        except ValueError:
            return False
    if lines and not numeric(lines[0]):
        lines = lines[1:]
    return np.asarray([[float(v) for v in l.split(",")] for l in lines], dtype=np.float32).astype(np.float64).reshape(len(lines), -1)


def main():
    ap = argparse.ArgumentParser(description="K-Means on Spark, Strata doing each partition's work.")
    ap.add_argument("--input", required=True, help="CSV (with header) or Parquet (file or directory)")
    ap.add_argument("--features", required=True, help="feature columns, comma-separated")
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--id-column", help="row key for the seeded sample (default: the row's position)")
    ap.add_argument("--strata", default="strata", help="strata binary on the driver (shipped to executors)")
    ap.add_argument("--max-iter", type=int, default=300)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default="k-means++", help="k-means++ (on a seeded sample) or a CSV file of initial centers")
    ap.add_argument("--sample-rows", type=int, default=100_000)
    ap.add_argument("--n-init", type=int, default=5, help="k-means++ restarts on the sample")
    ap.add_argument("--out", default="-", help="result JSON (default: stdout)")
    a = ap.parse_args()
    if a.k < 1:
        sys.exit("strata_kmeans.py: error: --k must be at least 1")
    binary = resolve_binary(a.strata)              # before Spark reads anything
    started = time.time()

    from pyspark.sql import SparkSession
    from pyspark import StorageLevel
    spark = SparkSession.builder.appName("strata-kmeans").getOrCreate()
    sc = spark.sparkContext
    sc.addFile(binary)
    name = os.path.basename(binary)
    df = spark.read.parquet(a.input) if (a.input.endswith(".parquet") or os.path.isdir(a.input)) else spark.read.csv(a.input, header=True, inferSchema=True)
    cols = a.features.split(",")
    missing = [c for c in cols + ([a.id_column] if a.id_column else []) if c not in df.columns]
    if missing:
        sys.exit(f"strata_kmeans.py: error: {a.input}: no column {', '.join(missing)}; columns are {', '.join(df.columns)}")
    d = len(cols)
    selected = cols + ([a.id_column] if a.id_column else [])

    def to_block(index, rows):
        xs, keys = [], []
        for r in rows:
            xs.append([float(r[c]) for c in cols])
            if a.id_column:
                keys.append(key_of_id(r[a.id_column]))
        arr = np.asarray(xs, dtype="<f4").reshape(-1, d)
        yield (index, np.asarray(keys, dtype=np.uint64), arr.tobytes())

    raw = df.select(*selected).rdd.mapPartitionsWithIndex(to_block).persist(StorageLevel.MEMORY_AND_DISK)
    sizes = sorted(raw.map(lambda t: (t[0], len(t[2]) // (4 * d))).collect())
    offsets, n = {}, 0
    for pid, count in sizes:
        offsets[pid] = n
        n += count
    if n < a.k:
        sys.exit(f"strata_kmeans.py: error: {a.input} has {n} rows, fewer than k = {a.k}")
    # (partition, first row position, float32 bytes), cached; keys only for the sample.
    blocks = raw.map(lambda t: (t[0], offsets[t[0]], t[2])).persist(StorageLevel.MEMORY_AND_DISK)
    log(f"{n} rows x {d} features in {len(sizes)} partitions")

    # Column means and variances over all rows (the tolerance's scale, as strata kmeans).
    def moments(t):
        x = np.frombuffer(t[2], dtype="<f4").reshape(-1, d).astype(np.float64)
        return (t[0], len(x), x.sum(axis=0), (x * x).sum(axis=0))
    parts = sorted(blocks.map(moments).collect(), key=lambda p: p[0])
    total = sum(p[2] for p in parts)
    mean = total / n
    variance = float(np.maximum(sum(p[3] for p in parts) / n - mean * mean, 0).mean())
    abs_tol = a.tol * variance

    if a.init == "k-means++":
        fraction = min(1.0, a.sample_rows / n)
        limit = np.uint64(min(MASK64, int(fraction * 2.0 ** 64)))
        seed = np.uint64(a.seed & MASK64)

        def sample(t):
            pid, keys, b = t
            x = np.frombuffer(b, dtype="<f4").reshape(-1, d)
            key = keys if a.id_column else np.arange(offsets[pid], offsets[pid] + len(x), dtype=np.uint64)
            h = splitmix64(key ^ seed)
            keep = np.nonzero(h <= limit)[0] if fraction < 1 else np.arange(len(x))
            for i in keep:
                yield (int(h[i]), int(key[i]), offsets[pid] + int(i), x[i].tobytes())
        picked = sorted(raw.flatMap(sample).collect())
        if len(picked) < a.k:
            sys.exit(f"strata_kmeans.py: error: the sample has {len(picked)} rows, fewer than k = {a.k}; raise --sample-rows")
        sample_rows = np.frombuffer(b"".join(p[3] for p in picked), dtype="<f4").reshape(-1, d)
        with tempfile.TemporaryDirectory() as t:
            np.save(os.path.join(t, "s.npy"), sample_rows)
            r = subprocess.run([binary, "kmeans", "--input", os.path.join(t, "s.npy"), "--k", str(a.k), "--seed", str(a.seed),
                                "--n-init", str(a.n_init), "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"strata_kmeans.py: error: initial k-means++ failed: {r.stderr.strip()}")
        init = np.asarray(json.loads(r.stdout)["centroids"], dtype=np.float32).astype(np.float64)
        log(f"initial centers: k-means++ on a {len(sample_rows)}-row sample")
    else:
        init = read_centers(a.init)
        if init.shape != (a.k, d):
            sys.exit(f"strata_kmeans.py: error: {a.init} holds {init.shape[0]}x{init.shape[1]} centers, expected {a.k}x{d}")

    centers = init.copy()
    converged, it = False, 0
    for it in range(1, a.max_iter + 1):
        c32 = centers.astype(np.float32)
        stats = sorted(blocks.mapPartitionsWithIndex(partial_stats(name, c32)).collect(), key=lambda p: p[0])
        sums = np.zeros((a.k, d))
        counts = np.zeros(a.k)
        inertia = 0.0
        for _, _, s, w, e in stats:         # reduced in partition order
            sums += s
            counts += w
            inertia += e
        empty = [c for c in range(a.k) if counts[c] == 0]
        if empty:
            cands = blocks.mapPartitionsWithIndex(farthest(c32, len(empty))).collect()
            cands.sort(key=lambda t: (-t[0], t[1]))
            for e, (_, pos, old, x) in zip(empty, cands[: len(empty)]):
                sums[old] -= x
                counts[old] -= 1
                sums[e] = x
                counts[e] = 1
            log(f"iteration {it}: relocated {len(empty)} empty cluster(s)")
        new = centers.copy()
        nz = counts > 0
        new[nz] = sums[nz] / counts[nz, None]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        log(f"iteration {it}: inertia {inertia:.10g}, center shift {shift:.3g}")
        if shift <= abs_tol:
            converged = True
            break
    final32 = centers.astype(np.float32)
    stats = sorted(blocks.mapPartitionsWithIndex(partial_stats(name, final32)).collect(), key=lambda p: p[0])
    inertia = float(sum(p[4] for p in stats))
    result = {"k": a.k, "columns": cols, "centroids": final32.astype(float).tolist(), "inertia": inertia, "n_iter": it,
              "converged": converged, "rows": int(n), "tol_absolute": abs_tol, "seed": a.seed,
              "init_centroids": init.astype(np.float32).astype(float).tolist(), "seconds": time.time() - started}
    text = json.dumps(result)
    if a.out == "-":
        print(text)
    else:
        with open(a.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(a.out + ".tmp", a.out)
    spark.stop()


if __name__ == "__main__":
    main()
