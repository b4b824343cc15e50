#!/usr/bin/env python3
"""Writes the Parquet test fixtures into Tests/StrataTests/Fixtures/parquet/ (run once by a
developer; the tests never run Python). Needs pyarrow (and DuckDB for the DuckDB-written file).

Every file holds the same 300 rows as data.csv (nulls as empty cells, floats as their shortest
repr, dates ISO, decimals exact, timestamps as integer nanoseconds since the epoch, UTC), written
with a different page version, codec or encoding: see FILES below. Deterministic (seeded)."""
import datetime as dt
import decimal
import os
import random
import shutil
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "StrataTests", "Fixtures", "parquet")
N = 300
rng = random.Random(19)


def maybe(v, p=0.1):
    return None if rng.random() < p else v


words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "Zürich", "naïve café"]
rows = []
for i in range(N):
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=rng.randrange(0, 400 * 86400), microseconds=rng.randrange(0, 10**6))
    rows.append(dict(
        id=i + 1,
        i32=maybe(rng.randrange(-1000, 1000)),
        i64=maybe(rng.randrange(-10**12, 10**12)),
        f32=maybe(float(np.float32(rng.uniform(-100, 100)))),
        f64=maybe(rng.uniform(-1e6, 1e6)),
        flag=maybe(rng.random() < 0.5),
        name=maybe(words[rng.randrange(len(words))] + ("" if rng.random() < 0.7 else str(rng.randrange(5)))),
        day=maybe(dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 800))),
        dec=maybe(decimal.Decimal(rng.randrange(-99999, 99999)) / 100),
        dec_wide=maybe(decimal.Decimal(rng.randrange(-10**15, 10**15)) / 10**4),
        ts_ms=maybe(base.replace(microsecond=base.microsecond // 1000 * 1000)),
        ts_us=maybe(base),
        ts_ns=maybe(base),
    ))

schema = pa.schema([
    ("id", pa.int64()), ("i32", pa.int32()), ("i64", pa.int64()), ("f32", pa.float32()), ("f64", pa.float64()),
    ("flag", pa.bool_()), ("name", pa.string()), ("day", pa.date32()), ("dec", pa.decimal128(7, 2)),
    ("dec_wide", pa.decimal128(22, 4)), ("ts_ms", pa.timestamp("ms")), ("ts_us", pa.timestamp("us", tz="UTC")),
    ("ts_ns", pa.timestamp("ns", tz="Europe/Paris")),
])
naive = lambda t: None if t is None else t.replace(tzinfo=None)
table = pa.table({
    **{k: [r[k] for r in rows] for k in ["id", "i32", "i64", "f32", "f64", "flag", "name", "day", "dec", "dec_wide", "ts_us", "ts_ns"]},
    "ts_ms": [naive(r["ts_ms"]) for r in rows],
}, schema=schema)


def ns(t):
    if t is None:
        return ""
    t = t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    d = t - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return str((d.days * 86400 + d.seconds) * 10**9 + d.microseconds * 1000)


def cell(k, v):
    if v is None:
        return ""
    if k.startswith("ts_"):
        return ns(v)
    if k == "flag":
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(float(np.float32(v))) if k == "f32" else repr(v)
    return str(v)


def write(name, t=table, **kw):
    pq.write_table(t, os.path.join(OUT, name), row_group_size=kw.pop("row_group_size", 128), data_page_size=kw.pop("data_page_size", 512), **kw)


# (file, what it covers). Small row groups (128 rows) and pages (512 bytes): several of each.
FILES = {
    "v1_plain_uncompressed.parquet": dict(use_dictionary=False, compression="none", data_page_version="1.0"),
    "v1_dict_snappy.parquet": dict(use_dictionary=True, compression="snappy", data_page_version="1.0"),
    "v1_dict_gzip.parquet": dict(use_dictionary=True, compression="gzip", data_page_version="1.0"),
    "v2_dict_zstd.parquet": dict(use_dictionary=True, compression="zstd", data_page_version="2.0"),
    "v2_plain_lz4raw.parquet": dict(use_dictionary=False, compression="lz4", data_page_version="2.0"),
    "v2_plain_snappy_crc.parquet": dict(use_dictionary=False, compression="snappy", data_page_version="2.0", write_page_checksum=True),
    "v1_dict_zstd_crc.parquet": dict(use_dictionary=True, compression="zstd", data_page_version="1.0", write_page_checksum=True),
    "v2_delta.parquet": dict(use_dictionary=False, compression="zstd", data_page_version="2.0",
                             column_encoding={"id": "DELTA_BINARY_PACKED", "i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
                                              "name": "DELTA_BYTE_ARRAY", "day": "DELTA_BINARY_PACKED", "flag": "RLE",
                                              "ts_us": "DELTA_BINARY_PACKED", "dec_wide": "DELTA_BYTE_ARRAY"}),
    "v1_delta_length.parquet": dict(use_dictionary=False, compression="snappy", data_page_version="1.0",
                                    column_encoding={"name": "DELTA_LENGTH_BYTE_ARRAY", "i64": "DELTA_BINARY_PACKED"}),
    "v2_byte_stream_split.parquet": dict(use_dictionary=False, compression="gzip", data_page_version="2.0",
                                         use_byte_stream_split=["f32", "f64", "i32", "i64", "dec_wide"]),
    "v1_int96.parquet": dict(use_dictionary=False, compression="snappy", use_deprecated_int96_timestamps=True),
    "v1_int96_dict.parquet": dict(use_dictionary=True, compression="none", use_deprecated_int96_timestamps=True),
}


def write_hive():
    """A Hive-partitioned dataset (pyarrow's write_to_dataset: year=YYYY/region=NAME/<uuid>.parquet,
    region null -> __HIVE_DEFAULT_PARTITION__) and hive.csv: its rows in the order Strata reads them
    (directories sorted by path, each file's rows in order) with the partition values last."""
    root = os.path.join(OUT, "hive")
    shutil.rmtree(root, ignore_errors=True)
    ids = list(range(1, 61))
    year = [2023 + (i % 2) for i in ids]
    region = [None if i % 7 == 0 else ["north", "south", "east west"][i % 3] for i in ids]
    x = [round(i * 1.25 - 20, 2) for i in ids]
    t = pa.table({"id": pa.array(ids, pa.int64()), "x": pa.array(x, pa.float64()), "year": pa.array(year, pa.int64()),
                  "region": pa.array(region, pa.string())})
    pq.write_to_dataset(t, root, partition_cols=["year", "region"])
    from urllib.parse import quote
    def key(i):
        r = region[i - 1]
        return (f"year={year[i - 1]}", "region=" + (quote(r) if r is not None else "__HIVE_DEFAULT_PARTITION__"), i)
    with open(os.path.join(OUT, "hive.csv"), "w") as f:
        f.write("id,x,year,region\n")
        for i in sorted(ids, key=key):
            f.write(f"{i},{x[i - 1]!r},{year[i - 1]},{region[i - 1] or ''}\n")
    print("dirs:", sorted(os.listdir(os.path.join(root, "year=2023"))))


def main():
    if sys.argv[1:] == ["hive"]:
        return write_hive()
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        p = os.path.join(OUT, f)
        shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    keys = [f.name for f in schema]
    with open(os.path.join(OUT, "data.csv"), "w") as f:
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join(cell(k, r[k]) for k in keys) + "\n")
    for name, kw in FILES.items():
        write(name, **dict(kw))
    # Decimals as INT32/INT64 (pyarrow writes FIXED_LEN_BYTE_ARRAY by default).
    write("v1_decimal_as_int.parquet", use_dictionary=False, compression="none", store_decimal_as_integer=True)
    # A codec we do not have (BROTLI) and a file with a nested column (a list) next to flat ones.
    write("bad_codec_brotli.parquet", compression="brotli")
    nested = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "tags": pa.array([[1], [2, 3], []], pa.list_(pa.int32())),
                       "x": pa.array([1.5, 2.5, None], pa.float64())})
    pq.write_table(nested, os.path.join(OUT, "nested.parquet"))
    # A multi-file dataset (read in file-name order: part-0, part-1, part-2 = rows 1-300).
    os.makedirs(os.path.join(OUT, "dataset"))
    for k, (a, b) in enumerate([(0, 90), (90, 200), (200, N)]):
        pq.write_table(table.slice(a, b - a), os.path.join(OUT, "dataset", f"part-{k}.parquet"), compression="snappy")
    write_hive()
    # DuckDB, when installed: the same table as DuckDB writes it (its own writer, ZSTD).
    try:
        import duckdb
        con = duckdb.connect()
        con.register("t", table)
        path = os.path.join(OUT, "duckdb_zstd.parquet")
        con.execute(f"COPY (SELECT * FROM t ORDER BY id) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 128)")
    except ImportError:
        print("duckdb not installed: duckdb_zstd.parquet not written", file=sys.stderr)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
