#!/usr/bin/env python3
"""Generates the campaign-feedback reference fixtures in Tests/StrataTests/Fixtures/campaign
from scipy and statsmodels (the tests themselves never need Python):

    python3 Scripts/make-campaign-fixtures.py      # numpy, scipy >= 1.11, statsmodels >= 0.14

Writes:
- assignments.csv: customer_id, segment_id, segment_name (as `strata segment` writes them);
- campaign.csv: customer_id, group, response, revenue: a deterministic synthetic campaign with a
  segment with a real effect, one with none, a thin one, a tiny one, one without control
  customers and one where nobody responded; plus 3 campaign customers who are in no segment,
  and 25 assigned customers who are not in the campaign;
- expected.json: per segment and overall, the values `strata campaign` must reproduce:
  statsmodels `confint_proportions_2indep(method="wald")` (the unpooled Wald interval),
  `proportions_ztest` (pooled two-proportion z-test), `multipletests(method="fdr_bh")`,
  scipy `ttest_ind(equal_var=False)` (Welch statistic, p-value, df and
  `confidence_interval(0.95)`), and the sample size per group
  n = (z(1-alpha/2) + z(power))^2 (var_T + var_C) / d^2, checked here against statsmodels
  `NormalIndPower().solve_power` (which also counts the far tail: agreement to 1e-5);
- numerics.json: scipy values of the distributions at fixed points (normal cdf and quantile,
  Student t cdf/sf/quantile at fractional degrees of freedom, the regularized incomplete beta)
  and Benjamini-Hochberg with ties.

Expected values are computed from the numbers as written to the CSVs (read back), so Strata and
the reference see exactly the same inputs.
"""
import csv
import json
import math
import os

import numpy as np
import scipy
import statsmodels
from scipy import special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "StrataTests", "Fixtures", "campaign")
ALPHA, POWER = 0.05, 0.8

# (segment id, name, treated, control, response rate treated, control, mean revenue of a responder T, C)
SEGMENTS = [
    (0, "Lapsed big spenders", 1500, 1400, 0.13, 0.08, 62.0, 55.0),   # a real effect
    (1, "At risk", 1200, 1250, 0.10, 0.10, 40.0, 40.0),               # none
    (2, "Loyal regulars", 700, 650, 0.24, 0.21, 80.0, 80.0),          # small, not detectable here
    (3, "Tiny", 6, 5, 0.34, 0.2, 30.0, 30.0),                         # too few for the approximation
    (4, "Treated only", 30, 0, 0.2, 0.0, 50.0, 0.0),                  # no control: undefined
    (5, "Dormant", 40, 40, 0.0, 0.0, 0.0, 0.0),                       # nobody responded
]


def synthesize(rng):
    """Rows (customer_id, segment_id, group, response, revenue as written)."""
    rows = []
    n = 0
    for sid, _, nt, nc, pt, pc, mt, mc in SEGMENTS:
        for group, size, p, m in (("treatment", nt, pt, mt), ("control", nc, pc, mc)):
            responses = rng.random(size) < p
            # Responders spend a gamma amount (shape 2); others spend nothing.
            spend = np.where(responses, rng.gamma(2.0, m / 2.0, size), 0.0)
            for r, s in zip(responses, spend):
                n += 1
                rows.append((f"C{n:05d}", sid, group, int(r), f"{s:.2f}"))
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def write_inputs(rows, rng):
    names = {s[0]: s[1] for s in SEGMENTS}
    # Assigned customers: every campaign customer but 3, plus 25 not in the campaign.
    outsiders = [(f"N{i:03d}", int(rng.integers(0, 3))) for i in range(25)]
    with open(os.path.join(OUT, "assignments.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer_id", "segment_id", "segment_name", "distance"])
        for cid, sid, *_ in rows:
            w.writerow([cid, sid, names[sid], "0.5"])
        for cid, sid in outsiders:
            w.writerow([cid, sid, names[sid], "0.5"])
    strangers = [("X001", "treatment", 1, "10.00"), ("X002", "control", 0, "0.00"), ("X003", "treatment", 0, "0.00")]
    with open(os.path.join(OUT, "campaign.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["customer_id", "group", "response", "revenue"])
        # Strangers on lines 2, 3 and 4 (the first one is what the warning names).
        for cid, g, r, s in strangers:
            w.writerow([cid, g, r, s])
        for cid, _, g, r, s in rows:
            w.writerow([cid, g, r, s])


def read_back():
    seg = {}
    with open(os.path.join(OUT, "assignments.csv")) as fh:
        for row in csv.DictReader(fh):
            seg[row["customer_id"]] = int(row["segment_id"])
    data = []
    with open(os.path.join(OUT, "campaign.csv")) as fh:
        for row in csv.DictReader(fh):
            if row["customer_id"] in seg:
                data.append((seg[row["customer_id"]], row["group"], int(row["response"]), float(row["revenue"])))
    return data


def none_if_nan(x):
    return None if x is None or not math.isfinite(x) else float(x)


def sample_size(d, var_t, var_c):
    if d == 0 or var_t + var_c <= 0:
        return None
    z = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)
    n = z * z * (var_t + var_c) / (d * d)
    # statsmodels' power analysis on the standardized effect agrees up to the far tail.
    es = abs(d) / math.sqrt((var_t + var_c) / 2)
    n_sm = NormalIndPower().solve_power(effect_size=es, alpha=ALPHA, power=POWER, ratio=1.0)
    assert abs(n_sm - n) / n < 1e-5, (n, n_sm)
    return n


def response_stats(rt, rc):
    """rt, rc: 0/1 arrays of the treated and control customers."""
    nt, nc = len(rt), len(rc)
    out = {"treated": nt, "control": nc, "responders_treated": int(rt.sum()), "responders_control": int(rc.sum())}
    if nt == 0 or nc == 0:
        out.update(response_rate_treated=None if nt == 0 else rt.mean(), response_rate_control=None if nc == 0 else rc.mean(),
                   uplift=None, uplift_ci=None, relative_uplift=None, z_statistic=None, p_value=None, sample_size_per_group_exact=None)
        return out
    pt, pc = rt.sum() / nt, rc.sum() / nc
    d = pt - pc
    out.update(response_rate_treated=pt, response_rate_control=pc, uplift=d, relative_uplift=d / pc if pc > 0 else None)
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    if se > 0:
        lo, hi = confint_proportions_2indep(int(rt.sum()), nt, int(rc.sum()), nc, method="wald", compare="diff", alpha=ALPHA)
        half = stats.norm.ppf(1 - ALPHA / 2) * se
        assert abs(lo - (d - half)) < 1e-12 and abs(hi - (d + half)) < 1e-12
        out["uplift_ci"] = [float(lo), float(hi)]
    else:
        out["uplift_ci"] = None
    pooled = (rt.sum() + rc.sum()) / (nt + nc)
    if 0 < pooled < 1:
        z, p = proportions_ztest([int(rt.sum()), int(rc.sum())], [nt, nc], alternative="two-sided")
        out.update(z_statistic=float(z), p_value=float(p))
    else:
        out.update(z_statistic=None, p_value=None)
    out["sample_size_per_group_exact"] = sample_size(d, pt * (1 - pt), pc * (1 - pc))
    return out


def revenue_stats(vt, vc):
    out = {"revenue_per_customer_treated": vt.mean() if len(vt) else None,
           "revenue_per_customer_control": vc.mean() if len(vc) else None}
    if len(vt) == 0 or len(vc) == 0:
        out.update(revenue_uplift=None, revenue_relative_uplift=None, revenue_uplift_ci=None, revenue_t_statistic=None,
                   revenue_degrees_of_freedom=None, revenue_p_value=None, revenue_sample_size_per_group_exact=None)
        return out
    d = vt.mean() - vc.mean()
    out.update(revenue_uplift=d, revenue_relative_uplift=d / vc.mean() if vc.mean() != 0 else None)
    st, sc = vt.var(ddof=1), vc.var(ddof=1)
    out["revenue_sample_size_per_group_exact"] = sample_size(d, st, sc)
    if st / len(vt) + sc / len(vc) == 0:
        out.update(revenue_uplift_ci=None, revenue_t_statistic=None, revenue_degrees_of_freedom=None, revenue_p_value=None)
        return out
    r = stats.ttest_ind(vt, vc, equal_var=False)
    ci = r.confidence_interval(confidence_level=1 - ALPHA)
    out.update(revenue_uplift_ci=[float(ci.low), float(ci.high)], revenue_t_statistic=float(r.statistic),
               revenue_degrees_of_freedom=float(r.df), revenue_p_value=float(r.pvalue))
    return out


def group_stats(rows):
    t = [r for r in rows if r[1] == "treatment"]
    c = [r for r in rows if r[1] == "control"]
    out = response_stats(np.array([r[2] for r in t], dtype=float), np.array([r[2] for r in c], dtype=float))
    out.update(revenue_stats(np.array([r[3] for r in t]), np.array([r[3] for r in c])))
    return {k: (none_if_nan(v) if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}


def adjust(rows, key, out_key, sig_key):
    tested = [i for i, r in enumerate(rows) if r[key] is not None]
    reject, adjusted, _, _ = multipletests([rows[i][key] for i in tested], alpha=ALPHA, method="fdr_bh")
    for r in rows:
        r[out_key] = None
        r[sig_key] = None
    for i, a, rej in zip(tested, adjusted, reject):
        rows[i][out_key] = float(a)
        rows[i][sig_key] = bool(rej)


def expected():
    data = read_back()
    segments = []
    for sid, name, *_ in SEGMENTS:
        s = group_stats([r for r in data if r[0] == sid])
        s.update(segment_id=sid, segment_name=name)
        segments.append(s)
    adjust(segments, "p_value", "p_value_adjusted", "significant")
    adjust(segments, "revenue_p_value", "revenue_p_value_adjusted", "revenue_significant")
    overall = group_stats(data)
    overall.update(segment_id=None, segment_name="All customers", p_value_adjusted=overall["p_value"],
                   revenue_p_value_adjusted=overall["revenue_p_value"],
                   significant=None if overall["p_value"] is None else overall["p_value"] <= ALPHA,
                   revenue_significant=None if overall["revenue_p_value"] is None else overall["revenue_p_value"] <= ALPHA)
    for r in segments + [overall]:
        for k in ("sample_size_per_group", "revenue_sample_size_per_group"):
            exact = r[k + "_exact"]
            r[k] = None if exact is None else int(math.ceil(exact))
    return {"scipy_version": scipy.__version__, "statsmodels_version": statsmodels.__version__, "alpha": ALPHA, "power": POWER,
            "counts": {"campaign_rows": 3 + len(data), "matched": len(data), "campaign_only": 3, "not_in_campaign": 25,
                       "first_campaign_only_line": 2},
            "segments": segments, "overall": overall}


def numerics():
    t_points = []
    for df in (1.0, 2.5, 7.3, 30.0, 1234.5, 2.0e6):
        for t in (-40.0, -3.0, -0.5, 0.0, 0.7, 2.1, 8.0, 40.0):
            t_points.append({"df": df, "t": t, "cdf": float(stats.t.cdf(t, df)), "sf": float(stats.t.sf(t, df)),
                             "two_sided": float(2 * stats.t.sf(abs(t), df))})
    t_quantiles = [{"df": df, "p": p, "quantile": float(stats.t.ppf(p, df))}
                   for df in (1.0, 2.5, 7.3, 30.0, 1234.5, 2.0e6) for p in (1e-8, 0.025, 0.2, 0.8, 0.975, 0.999999)]
    normal = [{"x": x, "cdf": float(stats.norm.cdf(x)), "sf": float(stats.norm.sf(x))}
              for x in (-30.0, -8.0, -1.96, -0.3, 0.0, 0.4, 1.5, 6.0, 12.0)]
    normal_q = [{"p": p, "quantile": float(stats.norm.ppf(p))}
                for p in (1e-300, 1e-20, 1e-6, 0.01, 0.025, 0.2, 0.5, 0.6, 0.8, 0.975, 0.999, 1 - 1e-12)]
    betas = [{"x": x, "a": a, "b": b, "value": float(special.betainc(a, b, x)), "complement": float(special.betaincc(a, b, x))}
             for (x, a, b) in ((0.3, 2.0, 3.0), (0.9, 0.5, 0.5), (0.01, 5.0, 0.5), (0.999, 600.0, 0.5), (0.5, 30.0, 40.0),
                               (0.2, 1e4, 1e4), (0.97, 250000.0, 0.5))]
    # Benjamini-Hochberg with ties and an out-of-order input.
    p = [0.01, 0.04, 0.04, 0.03, 0.2, 0.001, 0.04, 0.9]
    reject, adjusted, _, _ = multipletests(p, alpha=ALPHA, method="fdr_bh")
    return {"scipy_version": scipy.__version__, "t": t_points, "t_quantiles": t_quantiles, "normal": normal,
            "normal_quantiles": normal_q, "incomplete_beta": betas,
            "bh": {"p": p, "adjusted": [float(a) for a in adjusted], "reject": [bool(r) for r in reject]}}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240617)
    rows = synthesize(rng)
    write_inputs(rows, rng)
    e = expected()
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(e, fh, indent=1)
    with open(os.path.join(OUT, "numerics.json"), "w") as fh:
        json.dump(numerics(), fh, indent=1)
    for s in e["segments"] + [e["overall"]]:
        print(f"{s['segment_name']:>20}: n {s['treated']}/{s['control']} uplift {s['uplift']} p {s['p_value']} "
              f"adj {s['p_value_adjusted']} sig {s['significant']} rev p {s['revenue_p_value']} n/group {s['sample_size_per_group']}")


if __name__ == "__main__":
    main()
