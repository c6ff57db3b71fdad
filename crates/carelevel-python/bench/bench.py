"""Benchmark of the Python package (one thread, same data for every contender).

    python crates/carelevel-python/bench/bench.py [ROWS] [REPEATS]

Measures, on ROWS (default 1,000,000) complete random answer sets for the default
ruleset:
  * Ruleset.assess_table with plain string columns and with dictionary columns: the
    repeated call of one Ruleset (its memo of results, kept between calls, already
    holds these answer combinations) and the first call of a fresh Ruleset (the memo
    starts empty: every distinct combination is evaluated by the core once);
  * the same decision written the way an analyst would without carelevel: pandas
    columns mapped to ranks, the default ruleset's rules as numpy boolean masks,
    np.select (the baseline; it computes the level only, carelevel also computes the
    range, flags, deciding rules and errors);
  * Ruleset.level(dict) per call.
Each figure is the best of REPEATS (default 5) runs, as wall-clock time and as the CPU
time of the calling thread (`time.thread_time`; the work runs on that thread). On a
shared machine other processes stretch the wall-clock time; the CPU time is what one
core spent. Prints the machine (CPU model, `nproc`) and its load average before and
after the runs with the figures.
"""

import os
import platform
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa

import carelevel


def best_of(n, f):
    """(best wall-clock seconds, best thread CPU seconds, last result) of n runs."""
    walls, cpus = [], []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.thread_time()
        result = f()
        cpus.append(time.thread_time() - c0)
        walls.append(time.perf_counter() - t0)
    return min(walls), min(cpus), result


def best_of_fresh(n, f):
    """best_of for f(rs) on a new Ruleset each run (compiled before the clock starts)."""
    walls, cpus = [], []
    for _ in range(n):
        rs = carelevel.Ruleset.default()
        t0, c0 = time.perf_counter(), time.thread_time()
        f(rs)
        cpus.append(time.thread_time() - c0)
        walls.append(time.perf_counter() - t0)
    return min(walls), min(cpus)


def generate(rs, n, seed=1):
    rng = np.random.default_rng(seed)
    cols = {}
    for q in rs.questions:
        if q["kind"] == "ordinal":
            cols[q["id"]] = np.array(q["values"], dtype=object)[rng.integers(0, len(q["values"]), n)]
        else:
            cols[q["id"]] = rng.random(n) < 0.2
    return cols


def analyst_baseline(df):
    """The default ruleset's rules as an analyst writes them with pandas and numpy."""
    rank = lambda col, values: df[col].map({v: i for i, v in enumerate(values)}).to_numpy()
    sev = rank("severity", ["none", "mild", "moderate", "severe"])
    wd = rank("withdrawal_risk", ["none", "low", "moderate", "high", "severe"])
    med = rank("medical", ["none", "stable", "unstable", "acute"])
    hou = rank("housing", ["stable", "unstable", "homeless"])
    sup = rank("support", ["strong", "limited", "none"])
    harm = rank("harm_risk", ["none", "low", "moderate", "high", "imminent"])
    mh = rank("mental_health", ["none", "mild", "moderate", "severe"])
    step = df["step_down_from_inpatient"].to_numpy(dtype=bool)
    no_support, unstable_housing = sup == 2, hou >= 1
    residential = (
        ((sev == 3) & (no_support | unstable_housing))
        | ((sev == 3) & (mh >= 2))
        | ((sev == 3) & (wd >= 2))
        | (wd >= 3)
        | ((wd >= 2) & (no_support | unstable_housing))
        | (med >= 2)
        | (harm >= 3)
        | (mh == 3)
        | ((hou == 2) & (sev >= 2))
        | (unstable_housing & no_support & (sev >= 2))
    )
    iop = (
        (sev >= 2) | (wd >= 2) | (mh >= 2) | (harm >= 2)
        | ((sev >= 1) & unstable_housing) | ((sev >= 1) & no_support) | step
    )
    return np.select([residential, iop], ["residential", "iop"], "outpatient")


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, nproc {nproc}, Python {platform.python_version()}, carelevel {carelevel.__version__}"


def load():
    return "load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rs = carelevel.Ruleset.default()
    cols = generate(rs, n)
    strings = pa.table({k: pa.array(v, type=pa.bool_() if v.dtype == bool else pa.string()) for k, v in cols.items()})
    dictionary = pa.table({
        k: (strings.column(k).dictionary_encode() if strings.column(k).type == pa.string() else strings.column(k))
        for k in strings.column_names
    })
    df = pd.DataFrame(cols)
    print(machine())
    print(f"rows: {n:,}; one thread; best of {repeats}")
    print("before:", load())

    t_str_cold, c_str_cold = best_of_fresh(repeats, lambda fresh: fresh.assess_table(strings))
    t_dict_cold, c_dict_cold = best_of_fresh(repeats, lambda fresh: fresh.assess_table(dictionary))
    t_str, c_str, r_str = best_of(repeats, lambda: rs.assess_table(strings))
    t_dict, c_dict, r_dict = best_of(repeats, lambda: rs.assess_table(dictionary))
    t_base, c_base, base = best_of(repeats, lambda: analyst_baseline(df))
    levels = r_dict.column("level").cast(pa.string()).to_numpy(zero_copy_only=False)
    assert r_str.column("level").cast(pa.string()).to_numpy(zero_copy_only=False).tolist() == levels.tolist()
    assert (base == levels).all(), "the baseline must decide as carelevel does"

    records = df.head(100_000).to_dict("records")
    t_level, c_level, _ = best_of(repeats, lambda: [rs.level(r) for r in records])
    print("after: ", load())

    rate = lambda t: n / t / 1e6
    print(f"{'':34s} {'wall clock':>22s}   {'thread CPU time':>22s}")
    for name, t, c in [
        ("assess_table, string columns:", t_str, c_str),
        ("assess_table, dictionary columns:", t_dict, c_dict),
        ("  first call, string columns:", t_str_cold, c_str_cold),
        ("  first call, dictionary columns:", t_dict_cold, c_dict_cold),
        ("pandas/numpy np.select baseline:", t_base, c_base),
    ]:
        print(f"{name:34s} {t * 1e3:8.1f} ms {rate(t):6.2f} M rows/s   {c * 1e3:8.1f} ms {rate(c):6.2f} M rows/s")
    print(f"{'dictionary columns vs baseline:':34s} {t_base / t_dict:20.1f}x   {c_base / c_dict:20.1f}x")
    print(f"{'string columns vs baseline:':34s} {t_base / t_str:20.1f}x   {c_base / c_str:20.1f}x")
    print(f"{'  first call, dictionary:':34s} {t_base / t_dict_cold:20.1f}x   {c_base / c_dict_cold:20.1f}x")
    print(f"{'  first call, string:':34s} {t_base / t_str_cold:20.1f}x   {c_base / c_str_cold:20.1f}x")
    per_call = lambda t: t / len(records) * 1e6
    print(f"{'rs.level(dict), per call:':34s} {per_call(t_level):17.2f} us   {per_call(c_level):17.2f} us  (100,000 calls)")


if __name__ == "__main__":
    main()
