#!/usr/bin/env python3
"""CLV holdout and uncertainty fixtures from lifetimes (run once; tests never need Python).

CDNOW sample (Tests/StrataTests/Fixtures/cdnow/CDNOW_sample.txt), calibration 1997-09-30,
holdout to 1998-06-30 (39 + 39 weeks, as Fader, Hardie & Lee 2005):
- lifetimes 0.11.3 BetaGeoFitter / GammaGammaFitter fits on calibration_and_holdout_data(freq="D",
  freq_multiplier=7) with their summary standard errors;
- with those parameters: per-customer holdout predictions aggregated (sum, MAE, RMSE, Pearson
  correlation, by calibration frequency) and the weekly tracking curve
  (expected_cumulative_transactions, freq "D", freq_multiplier 7, t = 546 days);
- the same tracking curve with the paper's published parameters (r 0.243, alpha 4.414, a 0.793,
  b 2.426): the paper's Figure 2;
- lifetimes' ParetoNBDFitter on the same calibration data: parameters, log-likelihood, holdout
  predictions, and P(alive), the conditional and unconditional expectations at fixed points;
- a nonparametric bootstrap (customers resampled with replacement, 200 replicates, seed 7) of the
  BG/NBD and Gamma-Gamma parameters: their standard deviations check the observed-information
  standard errors.

Usage: pip install lifetimes==0.11.3 pandas numpy scipy; python3 Scripts/make-clv-fixtures.py
"""
import json, os, sys
import numpy as np, pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.utils import calibration_and_holdout_data, expected_cumulative_transactions
from scipy.optimize import minimize
from scipy.special import gammaln

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "StrataTests", "Fixtures")
raw = pd.read_csv(os.path.join(root, "cdnow", "CDNOW_sample.txt"), sep=r"\s+", header=None,
                  names=["customer", "index", "date", "cds", "amount"], dtype={"date": str})
raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
# One row per customer-day (the summary's purchase unit), amounts summed.
tx = raw.groupby(["index", "date"], as_index=False)["amount"].sum()
cal_end, obs_end = "1997-09-30", "1998-06-30"
d = calibration_and_holdout_data(tx, "index", "date", calibration_period_end=cal_end, observation_period_end=obs_end,
                                 freq="D", freq_multiplier=7, monetary_value_col="amount")

bgf = BetaGeoFitter()
bgf.fit(d["frequency_cal"], d["recency_cal"], d["T_cal"])
rep = d[d["frequency_cal"] > 0]
ggf = GammaGammaFitter()
ggf.fit(rep["frequency_cal"], rep["monetary_value_cal"])

def summary(f):
    s = f.summary
    return {k: {"value": float(s.loc[k, "coef"]), "se": float(s.loc[k, "se(coef)"])} for k in s.index}

duration = float(d["duration_holdout"].iloc[0])
pred = bgf.conditional_expected_number_of_purchases_up_to_time(duration, d["frequency_cal"], d["recency_cal"], d["T_cal"])
act = d["frequency_holdout"]
byf = pd.DataFrame({"f": d["frequency_cal"].astype(int), "a": act, "p": pred}).groupby("f").agg(n=("a", "size"), a=("a", "mean"), p=("p", "mean"))

def tracking(model):
    t = expected_cumulative_transactions(model, tx, "date", "index", t=546, freq="D", freq_multiplier=7)
    return {"actual": [int(v) for v in t["actual"]], "predicted": [float(v) for v in t["predicted"]]}

pnbd = ParetoNBDFitter()
pnbd.fit(d["frequency_cal"], d["recency_cal"], d["T_cal"])
ppred = pnbd.conditional_expected_number_of_purchases_up_to_time(duration, d["frequency_cal"], d["recency_cal"], d["T_cal"])
cases = [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 35.0, 38.0), (1, 0.5, 32.0), (20, 38.0, 38.5)]
pnbd_cases = [{"x": x, "tx": tx, "T": T, "t": 39.0,
               "log_likelihood": float(ParetoNBDFitter._conditional_log_likelihood([pnbd.params_[k] for k in ["r", "alpha", "s", "beta"]], np.array([x]), np.array([tx]), np.array([T]))[0]),
               "p_alive": float(pnbd.conditional_probability_alive(x, tx, T)),
               "expected": float(pnbd.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T)),
               "unconditional": float(pnbd.expected_number_of_purchases_up_to_time(39.0))} for x, tx, T in cases]

paper = BetaGeoFitter()
paper.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})

def gg_fit(x, m):
    # Gamma-Gamma by Nelder-Mead on log-parameters (lifetimes' BFGS stops on precision loss on
    # some resamples); the same likelihood as GammaGammaFitter.
    def nll(v):
        p, q, g = np.exp(v)
        return -np.sum(gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g) + (p * x - 1) * np.log(m)
                       + p * x * np.log(x) - (p * x + q) * np.log(x * m + g))
    start = np.log([ggf.params_["p"], ggf.params_["q"], ggf.params_["v"]])
    r = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000, "maxfev": 20000})
    return np.exp(r.x)

rng = np.random.default_rng(7)
boot_bg, boot_gg = [], []
cal = d[["frequency_cal", "recency_cal", "T_cal", "monetary_value_cal"]].to_numpy()
for rep_i in range(200):
    s = cal[rng.integers(0, len(cal), len(cal))]
    b = BetaGeoFitter().fit(s[:, 0], s[:, 1], s[:, 2])
    boot_bg.append([b.params_[k] for k in ["r", "alpha", "a", "b"]])
    m = s[s[:, 0] > 0]
    boot_gg.append(list(gg_fit(m[:, 0], m[:, 3])))
    if rep_i % 50 == 0: print("bootstrap", rep_i, file=sys.stderr)

out = {
    "source": "lifetimes 0.11.3 on CDNOW_sample.txt; Scripts/make-clv-fixtures.py",
    "calibration_end": cal_end, "holdout_end": obs_end, "duration_holdout": duration,
    "bgnbd": summary(bgf), "gamma_gamma": summary(ggf),
    "holdout": {
        "customers": int(len(d)), "actual_repeat_purchases": int(act.sum()), "predicted_repeat_purchases": float(pred.sum()),
        "mae": float(np.mean(np.abs(act - pred))), "rmse": float(np.sqrt(np.mean((act - pred) ** 2))),
        "correlation": float(np.corrcoef(act, pred)[0, 1]),
        "by_frequency": [{"frequency": int(f), "customers": int(r.n), "actual_mean": float(r.a), "predicted_mean": float(r.p)} for f, r in byf.iterrows()],
    },
    "tracking_lifetimes_fit": tracking(bgf),
    "pareto_nbd": {"params": {k: float(pnbd.params_[k]) for k in ["r", "alpha", "s", "beta"]},
                   "log_likelihood": float(np.sum(ParetoNBDFitter._conditional_log_likelihood([pnbd.params_[k] for k in ["r", "alpha", "s", "beta"]],
                                                                                             d["frequency_cal"].to_numpy(), d["recency_cal"].to_numpy(), d["T_cal"].to_numpy()))),
                   "holdout_predicted": float(ppred.sum()), "holdout_mae": float(np.mean(np.abs(act - ppred))),
                   "holdout_rmse": float(np.sqrt(np.mean((act - ppred) ** 2))), "cases": pnbd_cases,
                   "tracking": tracking(pnbd)},
    "tracking_paper_parameters": tracking(paper),
    "bootstrap": {"replicates": 200, "seed": 7,
                  "bgnbd_sd": dict(zip(["r", "alpha", "a", "b"], np.std(boot_bg, axis=0, ddof=1).tolist())),
                  "gamma_gamma_sd": dict(zip(["p", "q", "v"], np.std(boot_gg, axis=0, ddof=1).tolist()))},
}
with open(os.path.join(root, "clv", "cdnow_holdout.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps({k: out[k] for k in ["bgnbd", "gamma_gamma", "bootstrap"]}, indent=1))
print({k: v for k, v in out["holdout"].items() if k != "by_frequency"})
print("pareto_nbd", {k: v for k, v in out["pareto_nbd"].items() if k not in ("cases", "tracking")})
print("tracking week 39/78 actual, lifetimes-fit, paper:", [out["tracking_lifetimes_fit"]["actual"][i] for i in (38, 77)],
      [round(out["tracking_lifetimes_fit"]["predicted"][i], 1) for i in (38, 77)], [round(out["tracking_paper_parameters"]["predicted"][i], 1) for i in (38, 77)])
