#!/usr/bin/env python3
"""bench/ratios.py — interleave against its baselines, as ratios.

Every Google Benchmark row in bench/ is named

    <benchmark>/<role>[/<arguments, real_time, threads:N ...>]

where <benchmark> names what is measured (`queue.put_get`) and <role> is
`interleave` or `interleave_<variant>` (a row of interleave's code) or
`baseline_<what>` (the code a user would otherwise write or take from a
library). Within one benchmark, rows with the same arguments are compared:
each interleave row against each baseline row. ratio = baseline median time /
interleave median time, i.e. interleave's throughput relative to the
baseline's: above 1, interleave is faster.

The ratio's coefficient of variation is sqrt(cv_interleave^2 + cv_baseline^2)
(each cv = stddev / mean of the benchmark's repetitions, first-order error
propagation); a ratio whose CV exceeds 10 % is flagged unreliable, and a
target is not judged on it. A benchmark declares a target in its JSON
context (benchmark::AddCustomContext): key `target <interleave row> vs
<baseline role>`, value the least acceptable ratio.

  bench/ratios.py --check-names EXE...   list each executable's benchmarks
                                         (no run) and check the scheme: every
                                         name parses, every interleave row
                                         has a baseline with its arguments
  bench/ratios.py OUT_DIR JSON...        the ratio table of these runs (each
                                         with --benchmark_repetitions >= 2),
                                         printed as Markdown and written to
                                         OUT_DIR/bench-ratios.{md,json,dat,png}
                                         (the chart with gnuplot)
Exit codes: 0 done, 1 a name breaks the scheme or a run lacks repetitions,
2 usage.
"""
import json
import math
import re
import subprocess
import sys
from pathlib import Path

CV_LIMIT = 0.10
BENCHMARK = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*")
ROLE = re.compile(r"(interleave(_[a-z0-9_]+)?|baseline_[a-z0-9_]+)")
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def parse(run_name):
    """run name -> (benchmark, role, arguments) or an error message."""
    parts = run_name.split("/")
    if len(parts) < 2 or not BENCHMARK.fullmatch(parts[0]) or not ROLE.fullmatch(parts[1]):
        return None, (f"'{run_name}' is not <benchmark>/<role>[/...] with role interleave[_<variant>] "
                      "or baseline_<what>")
    return (parts[0], parts[1], "/".join(parts[2:])), None


def check_pairs(keys, where):
    """keys: (benchmark, role, arguments). Every interleave row has a baseline."""
    problems = []
    baselines = {(b, a) for b, r, a in keys if r.startswith("baseline_")}
    for b, r, a in sorted(keys):
        if r.startswith("interleave") and (b, a) not in baselines:
            problems.append(f"{where}: {b}/{r}/{a}: no baseline row of {b} with the arguments '{a}'")
    return problems


def check_names(executables):
    problems, count = [], 0
    for exe in executables:
        out = subprocess.run([exe, "--benchmark_list_tests=true"], capture_output=True, text=True)
        if out.returncode != 0:
            problems.append(f"{exe}: --benchmark_list_tests failed ({out.returncode}): {out.stderr.strip()}")
            continue
        keys = set()
        for name in out.stdout.split():
            key, error = parse(name)
            if error:
                problems.append(f"{exe}: {error}")
            else:
                keys.add(key)
                count += 1
        problems += check_pairs(keys, exe)
    for p in problems:
        print(f"bench/ratios.py: {p}", file=sys.stderr)
    if not problems:
        print(f"bench/ratios.py: {count} benchmark rows in {len(executables)} executables follow the scheme")
    return 1 if problems else 0


def fmt_time(ns):
    for unit in ("s", "ms", "us", "ns"):
        if ns >= UNIT_NS[unit] or unit == "ns":
            v = ns / UNIT_NS[unit]
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:,.0f} {unit}"


def load(files):
    """-> rows {(benchmark, role, arguments): {"median": ns, "cv": x}}, targets, problems"""
    rows, targets, problems = {}, {}, []
    for f in files:
        data = json.loads(Path(f).read_text())
        for key, value in data.get("context", {}).items():
            m = re.fullmatch(r"target (\S+) vs (baseline_\S+)", key)
            if m:
                targets[(m.group(1), m.group(2))] = float(value)
        seen_median = False
        for b in data.get("benchmarks", []):
            agg = b.get("aggregate_name")
            if agg not in ("median", "cv"):
                continue
            key, error = parse(b["run_name"])
            if error:
                problems.append(f"{f}: {error}")
                continue
            entry = rows.setdefault(key, {})
            if agg == "median":
                seen_median = True
                entry["median"] = b["real_time"] * UNIT_NS[b["time_unit"]]
            else:
                entry["cv"] = b["real_time"]  # a fraction (stddev / mean)
        if not seen_median and data.get("benchmarks"):
            problems.append(f"{f}: no median: run with --benchmark_repetitions=N (N >= 2)")
    problems += check_pairs(set(rows), "this run")
    return rows, targets, problems


def table(rows, targets):
    out = []
    for (bench, role, args), ir in sorted(rows.items()):
        if not role.startswith("interleave"):
            continue
        for (b2, base, a2), br in sorted(rows.items()):
            if b2 != bench or a2 != args or not base.startswith("baseline_"):
                continue
            if "median" not in ir or "median" not in br:
                continue
            ratio = br["median"] / ir["median"]
            cv = math.hypot(ir.get("cv", math.inf), br.get("cv", math.inf))
            reliable = cv <= CV_LIMIT
            full = f"{bench}/{role}" + (f"/{args}" if args else "")
            target = targets.get((full, base))
            if target is None:
                verdict = ""
            elif not reliable:
                verdict = f">= {target:g}: not judged (unreliable)"
            else:
                verdict = f">= {target:g}: " + ("met" if ratio >= target else "MISSED")
            out.append({
                "benchmark": bench, "arguments": args, "interleave": role, "baseline": base,
                "interleave_median_ns": ir["median"], "baseline_median_ns": br["median"],
                "ratio": ratio, "cv": cv, "reliable": reliable, "target": target, "verdict": verdict,
            })
    return out


def markdown(entries, load_avg):
    lines = [
        "| benchmark | arguments | interleave | median | baseline | median | ratio | CV | target |",
        "|---|---|---|---:|---|---:|---:|---:|---|",
    ]
    for e in entries:
        cv = "n/a" if math.isinf(e["cv"]) else f"{e['cv'] * 100:.1f} %"
        flag = "" if e["reliable"] else " **unreliable**"
        lines.append(f"| {e['benchmark']} | {e['arguments'] or '-'} | {e['interleave']} | "
                     f"{fmt_time(e['interleave_median_ns'])} | {e['baseline']} | "
                     f"{fmt_time(e['baseline_median_ns'])} | {e['ratio']:.2f}x | {cv}{flag} | "
                     f"{e['verdict'] or '-'} |")
    unreliable = sum(not e["reliable"] for e in entries)
    verdicts = [e["verdict"] for e in entries if e["verdict"]]
    lines += [
        "",
        f"ratio = baseline median / interleave median (above 1: interleave is faster); "
        f"CV = the ratio's coefficient of variation over the repetitions; "
        f"{unreliable} of {len(entries)} ratios have CV > {CV_LIMIT * 100:.0f} % and are flagged "
        f"unreliable; targets: {sum(v.endswith('met') for v in verdicts)} met, "
        f"{sum(v.endswith('MISSED') for v in verdicts)} missed, "
        f"{sum('not judged' in v for v in verdicts)} not judged. Load average at the end: {load_avg}.",
    ]
    return "\n".join(lines) + "\n"


def chart(entries, out):
    dat = out / "bench-ratios.dat"
    with open(dat, "w") as f:
        f.write("# index ratio error reliable label\n")
        for i, e in enumerate(entries):
            err = 0 if math.isinf(e["cv"]) else e["ratio"] * e["cv"]
            label = f"{e['benchmark']} {e['arguments']} {e['interleave']} / {e['baseline']}".replace('"', "")
            f.write(f"{i} {e['ratio']:.6g} {err:.6g} {int(e['reliable'])} \"{label}\"\n")
    # x tics at powers of 2 spanning the ratios and their error bars, labelled 1/4x, 1x, 4x
    lo = min([1.0] + [max(e["ratio"] - (0 if math.isinf(e["cv"]) else e["ratio"] * e["cv"]),
                          e["ratio"] / 2) for e in entries])
    hi = max([1.0] + [e["ratio"] * (1 + (0 if math.isinf(e["cv"]) else e["cv"])) for e in entries])
    k0, k1 = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
    step = max(1, math.ceil((k1 - k0) / 8))
    tics = ", ".join(f'"{2 ** k:g}x" {2.0 ** k}' if k >= 0 else f'"1/{2 ** -k}x" {2.0 ** k}'
                     for k in range(k0, k1 + 1, step) if k % step == 0 or k == 0)
    script = f"""set terminal pngcairo size 1600,{420 + 24 * len(entries)} noenhanced
set output '{out}/bench-ratios.png'
set tmargin 5
set label 1 at screen 0.01, screen 0.99 left front "interleave against its baselines: baseline median time / interleave median time\\n(right of 1x: interleave is faster; error bars: ratio x CV; red: CV > {CV_LIMIT * 100:.0f} %, unreliable)" offset 0, -1
set style fill solid 0.6
set boxwidth 0.7
set yrange [-1:{len(entries)}]
set ytics ()
set logscale x 2
set xrange [{2.0 ** k0}:{2.0 ** k1}]
set xtics ({tics})
set xlabel 'ratio (log scale; 1 = as fast as the baseline)'
set grid x
set key off
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb 'black'
plot '{dat}' using 2:1:($2 < 1 ? $2 : 1):($2 < 1 ? 1 : $2):($1-0.35):($1+0.35):($4 > 0.5 ? 0x3070b0 : 0xd04040):ytic(5) with boxxyerrorbars lc rgb variable, \\
     '{dat}' using 2:1:($2-$3 > 0 ? $2-$3 : $2*0.5):($2+$3) with xerrorbars pt 0 lc rgb 'black'
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main(argv):
    if len(argv) >= 2 and argv[1] == "--check-names":
        if len(argv) < 3:
            print(__doc__, file=sys.stderr)
            return 2
        return check_names(argv[2:])
    if len(argv) < 3 or argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rows, targets, problems = load(argv[2:])
    for p in problems:
        print(f"bench/ratios.py: {p}", file=sys.stderr)
    if problems:
        return 1
    entries = table(rows, targets)
    load_avg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    md = markdown(entries, load_avg)
    (out / "bench-ratios.md").write_text(md)
    (out / "bench-ratios.json").write_text(json.dumps(
        {"cv_limit": CV_LIMIT, "load_avg": load_avg,
         "ratios": [{**e, "cv": None if math.isinf(e["cv"]) else e["cv"]} for e in entries]},
        indent=2) + "\n")
    chart(entries, out)
    print(md, end="")
    print(f"written: {out}/bench-ratios.md, bench-ratios.json, bench-ratios.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
