#!/usr/bin/env python3
"""Time-to-find with and without comparison feedback (-use_value_profile) on the planted bugs.

  run:   value_profile_ttf.py run --plant-json QUICK.json --raw RAW.jsonl --seeds 1,2,3 --max-time T
         [--verify "dotnet Cli/bin/Release/net10.0/verify.dll"] [--bugs a,b]
  table: value_profile_ttf.py table --raw RAW.jsonl --max-time T

`run` takes the bugs the fuzz items caught in a `verify check --plant all --json` run, each on the
fuzz target that found it first there, and runs
  verify fuzz TARGET -impl=BASE+BUG -max_total_time=T -seed=S -use_value_profile=V -artifact_prefix=TMP/
from an empty corpus, V = 0 and 1 back to back for each (bug, seed) (the order alternating with
the seed) so machine load falls on both alike. The time to find is the fuzzer's own
`stat::time_to_find_sec:` line (engine clock, start-up excluded); a run that ends clean within T is
censored at T. Each run is appended to RAW at once, so an interrupted measurement keeps what it
measured. `table` prints the Markdown table of docs/planted-bugs.md from RAW.
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def fuzz_bugs(plant_json):
    with open(plant_json) as f:
        doc = json.load(f)
    chosen = []
    for b in doc["bugs"]:
        found = [i for i in b["items"] if i["engine"] == "fuzz" and i["status"] == "failed"]
        if found:
            first = min(found, key=lambda i: i["secondsToFind"] if i["secondsToFind"] is not None else i["seconds"])
            chosen.append((b["name"], b["implementation"], first["name"].split("/", 1)[1]))
    return chosen


def run(a):
    verify = shlex.split(a.verify)
    bugs = fuzz_bugs(a.plant_json)
    if a.bugs:
        keep = a.bugs.split(",")
        bugs = [b for b in bugs if b[0] in keep]
    seeds = [int(s) for s in a.seeds.split(",")]
    print(f"{len(bugs)} fuzz-catchable bugs x {len(seeds)} seeds x 2 settings, T = {a.max_time} s", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="vp-ttf-") as tmp, open(a.raw, "a") as raw:
        for k, seed in enumerate(seeds):
            for name, impl, target in bugs:
                for vp in ((0, 1) if k % 2 == 0 else (1, 0)):
                    cmd = verify + ["fuzz", target, f"-impl={impl}", f"-max_total_time={a.max_time}", f"-seed={seed}",
                                    f"-use_value_profile={vp}", f"-artifact_prefix={tmp}/"]
                    started = time.time()
                    p = subprocess.run(cmd, capture_output=True, text=True)
                    wall = time.time() - started
                    log = p.stdout + p.stderr
                    ttf = re.search(r"stat::time_to_find_sec:\s*([0-9.]+)", log)
                    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
                    ms = re.search(r"^MS: \d+ (.*)$", log, re.M)
                    summary = re.search(r"^SUMMARY: DmaVerify fuzz: (.*)$", log, re.M)
                    if p.returncode == 1 and ttf:
                        outcome = "found"
                    elif p.returncode == 0:
                        outcome = "censored"
                    else:
                        outcome = "error"
                    rec = {"bug": name, "impl": impl, "target": target, "seed": seed, "vp": vp, "maxTime": a.max_time,
                           "outcome": outcome, "exit": p.returncode, "ttf": float(ttf.group(1)) if ttf else None,
                           "execs": int(execs[-1]) if execs else None, "mutations": ms.group(1) if ms else None,
                           "summary": summary.group(1) if summary else None, "wall": round(wall, 2),
                           "load": os.getloadavg()[0], "command": " ".join(["verify"] + cmd[len(verify):-1])}
                    if outcome == "error":
                        rec["log"] = log[-2000:]
                    raw.write(json.dumps(rec) + "\n")
                    raw.flush()
                    print(f"seed {seed} {impl} vp={vp}: {outcome} {rec['ttf']} s ({wall:.1f} s wall, load {rec['load']:.1f})", file=sys.stderr)


def table(a):
    recs = [json.loads(l) for l in open(a.raw) if l.strip()]
    errors = [r for r in recs if r["outcome"] == "error"]
    recs = [r for r in recs if r["outcome"] != "error" and r["maxTime"] == a.max_time]
    bugs = list(dict.fromkeys(r["bug"] for r in recs))

    def t(r):
        return r["ttf"] if r["outcome"] == "found" else float(r["maxTime"])

    def execs(runs):
        """Median inputs run up to the finding, over the runs that found (the engine's clock
        includes the first second's JIT warm-up; this count does not)."""
        found = [r["execs"] for r in runs if r["outcome"] == "found"]
        return f"{statistics.median(found):.0f}" if found else "-"

    def fmt(s):
        return f"{s:.2f}" if s < 10 else f"{s:.1f}"

    print("| bug | target | runs per setting | median s without | found without | median s with | found with | without / with | median execs to find without / with | CmpOperand in the finding's mutations (with) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    med0, med1, all0, all1 = [], [], [], []
    for b in bugs:
        r0 = [r for r in recs if r["bug"] == b and r["vp"] == 0]
        r1 = [r for r in recs if r["bug"] == b and r["vp"] == 1]
        if not r0 or not r1:
            continue
        m0, m1 = statistics.median(map(t, r0)), statistics.median(map(t, r1))
        med0.append(m0)
        med1.append(m1)
        all0 += map(t, r0)
        all1 += map(t, r1)
        cmp = sum(1 for r in r1 if r["outcome"] == "found" and r["mutations"] and "CmpOperand" in r["mutations"])
        f0 = sum(r["outcome"] == "found" for r in r0)
        f1 = sum(r["outcome"] == "found" for r in r1)
        print(f"| {b} | {r0[0]['target']} | {len(r0)} | {fmt(m0)} | {f0}/{len(r0)} | {fmt(m1)} | {f1}/{len(r1)} | "
              f"{m0 / m1:.2f} | {execs(r0)} / {execs(r1)} | {cmp}/{f1} |")
    if med0:
        print()
        print(f"- median over the bugs' medians: {fmt(statistics.median(med0))} s without, {fmt(statistics.median(med1))} s with "
              f"(without / with = {statistics.median(med0) / statistics.median(med1):.2f}); over all runs: "
              f"{fmt(statistics.median(all0))} s without, {fmt(statistics.median(all1))} s with; "
              f"sum of per-bug medians {sum(med0):.1f} s without, {sum(med1):.1f} s with; "
              f"median execs to find over the runs that found: {execs([r for r in recs if r['vp'] == 0])} without, "
              f"{execs([r for r in recs if r['vp'] == 1])} with")
        print(f"- {len(bugs)} bugs, {len(all0)} + {len(all1)} runs, censored at T = {a.max_time} s: "
              f"{sum(1 for r in recs if r['vp'] == 0 and r['outcome'] == 'censored')} without and "
              f"{sum(1 for r in recs if r['vp'] == 1 and r['outcome'] == 'censored')} with found nothing in T; "
              f"load average (1 min) during the runs {min(r['load'] for r in recs):.1f} to {max(r['load'] for r in recs):.1f}")
    if errors:
        print(f"- {len(errors)} run(s) ended in a tool error and are left out: " + ", ".join(f"{r['impl']} seed {r['seed']} vp={r['vp']} exit {r['exit']}" for r in errors))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="verb", required=True)
    r = sub.add_parser("run")
    r.add_argument("--plant-json", required=True)
    r.add_argument("--raw", required=True)
    r.add_argument("--seeds", default="1,2,3")
    r.add_argument("--max-time", type=int, default=10)
    r.add_argument("--verify", default="dotnet Cli/bin/Release/net10.0/verify.dll")
    r.add_argument("--bugs")
    t = sub.add_parser("table")
    t.add_argument("--raw", required=True)
    t.add_argument("--max-time", type=int, default=10)
    a = p.parse_args()
    run(a) if a.verb == "run" else table(a)


if __name__ == "__main__":
    main()
