#!/usr/bin/env python3
"""ci/mergesort_plot.py REPORT_DIR: reads REPORT_DIR/bench_mergesort.json
(Google Benchmark, aggregates), writes REPORT_DIR/mergesort.dat (median wall
time in ms per sort and input size), REPORT_DIR/mergesort-ratios.txt and,
with gnuplot, REPORT_DIR/mergesort.png: time against input size, log-log.

The ratios read as bench/ratios.py's do: the other's median time /
interleave's, so above 1 the interleave sort is faster:
  - tbb::parallel_sort / sort_multithreading (target >= 1.0: the threaded
    sort takes at most tbb's time);
  - sort_multithreading / sort_multiprocessing (target >= 1/1.5 = 0.67 at
    10,000,000: the process sort takes at most 1.5x the threaded sort's
    time)."""
import json
import subprocess
import sys
from pathlib import Path

report = Path(sys.argv[1])
data = json.loads((report / "bench_mergesort.json").read_text())
times = {}  # name -> {n: ms}
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    # mergesort.<kind>/<role>/n:<size>/real_time (bench/ratios.py's scheme)
    group, role, n = b["run_name"].split("/")[:3]
    ms = b["real_time"] * {"ms": 1, "us": 1e-3, "ns": 1e-6, "s": 1e3}[b["time_unit"]]
    times.setdefault(group.removeprefix("mergesort.") + "/" + role, {})[int(n.split(":")[-1])] = ms
sizes = sorted({n for t in times.values() for n in t})
names = sorted(times)
with open(report / "mergesort.dat", "w") as f:
    f.write("# n " + " ".join(names) + "  (median wall ms)\n")
    for n in sizes:
        f.write(f"{n} " + " ".join(f"{times[k].get(n, float('nan')):.3f}" for k in names) + "\n")
lines = []


def ratio_line(what, other, mine, n, target=None):
    r = other[n] / mine[n]
    verdict = "" if target is None else f"  target >= {target:.2f}: " + ("met" if r >= target else "MISSED")
    return f"{what} at {n:,}: {other[n]:.1f} ms / {mine[n]:.1f} ms = {r:.2f}x{verdict}"


tbb = times.get("parallel/baseline_tbb_parallel_sort", {})
for w in ("6w", "2w"):
    mt = times.get(f"parallel/interleave_{w}", {})
    mp = times.get(f"parallel/interleave_processes_{w}", {})
    for n in sizes:
        if n in mt and n in tbb:
            lines.append(ratio_line(f"tbb::parallel_sort / sort_multithreading ({w[0]} workers)", tbb, mt,
                                    n, 1.0 if n >= 1_000_000 else None))
    for n in sizes:
        if n in mp and n in mt:
            lines.append(ratio_line(f"sort_multithreading / sort_multiprocessing ({w[0]} workers)", mt, mp,
                                    n, 1 / 1.5 if n >= 10_000_000 else None))
lines.append("(ratio = the other's median wall time / interleave's: above 1, interleave's sort is faster)")
(report / "mergesort-ratios.txt").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
plot = ", ".join(
    f"'{report}/mergesort.dat' using 1:{i + 2} with linespoints title '{k}'" for i, k in enumerate(names))
script = f"""set terminal pngcairo size 1000,650 noenhanced
set output '{report}/mergesort.png'
set title 'mergesort and baselines: median wall time (ms) against input size, {data["context"].get("num_cpus")} CPUs'
set xlabel 'integers sorted'
set ylabel 'wall time (ms)'
set logscale xy
set key left top
set grid
plot {plot}
"""
subprocess.run(["gnuplot"], input=script, text=True, check=True)
print(f"plot: {report}/mergesort.png")
