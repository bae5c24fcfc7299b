#!/usr/bin/env python3
"""bench/checkers.py BUILD_DIR OUT_JSON — the two model checkers side by side,
in one run on one machine (run by ci/bench). Figures, not a test.

1. Throughput: executions per second of Relacy (model_counter) and the
   project's own DPOR checker (model_counter_dpor) on the locked counter
   models (2x3 full, 3x2 full, 2x5: Relacy context bound 3, DPOR exhaustive),
   each search repeated until a checker has spent at least 2 s; executions
   and durations come from the runner's JSON records.
2. Fewest preemptions: every expected-failure model run on both checkers;
   the bound at which each found the bug (both search bounds 0, 1, 2, ...
   smallest first), listed side by side, with the models where DPOR needs
   more preemptions than Relacy marked.
3. The seed's sizes on the DPOR checker: each model's verdict (proved or
   bounded by budget), executions, seconds, executions per second, and the
   semantics it ran under (DPOR exact or DPOR await), from its record.
"""
import re
import json
import os
import subprocess
import sys
import tempfile


def run(exe, model, report):
    subprocess.run([exe, "--model", model, "--no-history", "--report", report], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def records(report):
    with open(report) as f:
        return [json.loads(line) for line in f if line.strip()]


def listing(exe):
    out = subprocess.run([exe, "--list"], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench/checkers.py BUILD_DIR OUT_JSON")
    models_dir = os.path.join(sys.argv[1], "models")
    result = {"throughput": {}, "preemptions": []}
    tmp = tempfile.mkdtemp()

    print("== model checkers: executions per second on the locked counter")
    for exe_name, checker in (("model_counter", "relacy"), ("model_counter_dpor", "dpor")):
        exe = os.path.join(models_dir, exe_name)
        report = os.path.join(tmp, exe_name + ".jsonl")
        executions, seconds, rounds = 0, 0.0, 0
        while seconds < 2.0:
            for model in ("counter.locked.2x3.full", "counter.locked.3x2.full", "counter.locked.2x5.bound3"):
                if os.path.exists(report):
                    os.remove(report)
                run(exe, model, report)
                rec = records(report)[-1]
                if not rec.get("passed"):
                    sys.exit(f"{exe_name} {model}: {rec.get('verdict')} — {rec.get('detail')}")
                executions += rec["executions"]
                seconds += rec["duration_s"]
            rounds += 1
        rate = executions / seconds
        result["throughput"][checker] = {"executions": executions, "seconds": seconds, "per_second": rate}
        print(f"  {checker:7s} {executions:>10,} executions in {seconds:6.2f} s ({rounds} rounds): "
              f"{rate:,.0f} executions/s")

    print("== expected failures: preemptions of the counterexample (Relacy | DPOR)")
    more = 0
    for exe_name in sorted(os.listdir(models_dir)):
        if not exe_name.startswith("model_") or exe_name.endswith("_dpor") or "." in exe_name:
            continue
        relacy = os.path.join(models_dir, exe_name)
        dpor = relacy + "_dpor"
        if not (os.access(relacy, os.X_OK) and os.access(dpor, os.X_OK)):
            continue
        for fields in listing(relacy):
            name, expected = fields[0], fields[2]
            if expected == "holds":
                continue
            row = {"model": name, "expected": expected}
            for checker, exe in (("relacy", relacy), ("dpor", dpor)):
                report = os.path.join(tmp, f"{checker}-{name}.jsonl")
                run(exe, name, report)
                rec = records(report)[-1]
                row[checker] = {"passed": rec.get("passed"), "bound": rec.get("bound"),
                                "executions": rec.get("executions"), "verdict": rec.get("verdict")}
            r, d = row["relacy"], row["dpor"]
            flag = ""
            if not (r["passed"] and d["passed"]):
                flag = "  NOT FOUND BY BOTH"
            elif d["bound"] > r["bound"]:
                flag = "  DPOR NEEDS MORE"
                more += 1
            print(f"  {name:55s} relacy {r['bound']} ({r['executions']:,} ex) | dpor {d['bound']} "
                  f"({d['executions']:,} ex){flag}")
            result["preemptions"].append(row)
    print(f"  {len(result['preemptions'])} expected failures; DPOR needs more preemptions than Relacy on {more}")

    print("== the seed's sizes on the DPOR checker (each model's own budget)")
    result["seed_sizes"] = []
    for exe_name, model in (("model_queue_dpor", "queue.fifo.unbounded.1p1c_10"),
                            ("model_queue_dpor", "producer_consumer.fixed.seed10.bound3"),
                            ("model_queue_dpor", "producer_consumer.sentinel.seed10.bound3"),
                            ("model_barrier_dpor", "barrier.3x2gen.bound2"),
                            ("model_barrier_dpor", "barrier.thread_local.3x2gen.bound2"),
                            ("model_thread_pool_dpor", "thread_pool.3w3t.bound2"),
                            ("model_thread_pool_dpor", "thread_pool.3w5t.bound1"),
                            ("model_thread_pool_dpor", "thread_pool.2w3t.shutdown.bound3"),
                            ("model_thread_dpor", "interleavings.obiwan_anakin.lines"),
                            ("model_counter_dpor", "counter.locked.2x5.bound3")):
        exe = os.path.join(models_dir, exe_name)
        if not os.access(exe, os.X_OK):
            print(f"  {model}: {exe_name} not built")
            continue
        report = os.path.join(tmp, "seed-" + model + ".jsonl")
        run(exe, model, report)
        rec = records(report)[-1]
        m = re.search(r"DPOR (await|exact)", rec.get("detail", ""))
        how = "DPOR " + m.group(1) if m else "?"
        secs = rec.get("duration_s", 0.0)
        rate = rec.get("executions", 0) / secs if secs > 0 else 0.0
        print(f"  {model:45s} {rec.get('verdict', '?'):18s} {rec.get('executions', 0):>10,} executions "
              f"{secs:6.1f} s {rate:>9,.0f}/s  {how}")
        result["seed_sizes"].append({"model": model, "verdict": rec.get("verdict"), "passed": rec.get("passed"),
                                     "executions": rec.get("executions"), "seconds": secs,
                                     "executions_per_s": rate, "semantics": how})
    with open(sys.argv[2], "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
