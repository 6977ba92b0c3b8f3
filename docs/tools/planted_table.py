#!/usr/bin/env python3
"""The per-bug table of docs/planted-bugs.md, generated from the tool's own JSON (never typed).

Inputs, one per budget column:
  --quick FILE      the stdout of `verify check --quick --plant all --json`
  --default FILE    the stdout of `verify check --plant all --json`, or
  --default-dir DIR one `verify check --plant BUG --json` stdout per bug, named BUG.json
                    (when the default budget ran only on a subset of the catalog)
Prints a Markdown table on stdout: per bug, the engines whose items failed (failed/run items),
the time from the first finding item's start to its finding, and the smallest failing case any
engine reduced it to; then one summary line per budget against the acceptance targets
(caught, shrunk to <= 8 ops).
"""
import argparse
import json
import os
import sys

SHORT = {"props:invariants": "inv", "props:refine": "refine", "props:topology": "topo", "props:faults": "faults",
         "props:linearizable": "lin", "corpus": "corpus", "fuzz": "fuzz", "explore": "explore"}


def family(engine):
    return "corpus" if engine.startswith("corpus:") else engine


def summarize(items):
    """What `verify check --plant` reports for one bug, from its items (PlantedChecks.BugRun)."""
    failed = [i for i in items if i["status"] == "failed"]
    crashed = [i for i in items if i["status"] == "crashed"]
    engines = []
    for i in items:
        f = family(i["engine"])
        if f not in engines:
            engines.append(f)
    caught_by = []
    for f in engines:
        n = sum(1 for i in failed if family(i["engine"]) == f)
        if n:
            caught_by.append(f"{SHORT.get(f, f)} {n}/{sum(1 for i in items if family(i['engine']) == f)}")

    def to_find(i):
        return i["secondsToFind"] if i["secondsToFind"] is not None else i["seconds"]

    first = min(failed, key=to_find) if failed else None
    shrunk = [i["shrunkOps"] for i in failed if i["shrunkOps"] is not None]
    return {
        "caught": bool(failed),
        "caughtBy": ", ".join(caught_by) if failed else "ESCAPED",
        "first": first["name"] if first else None,
        "toFind": to_find(first) if first else None,
        "shrunk": min(shrunk) if shrunk else None,
        "crashed": len(crashed),
        "seconds": sum(i["seconds"] for i in items),
    }


def load_all(path):
    with open(path) as f:
        doc = json.load(f)
    return {b["name"]: {"base": b["implementation"].split("+")[0], "slip": b["slip"], **summarize(b["items"])} for b in doc["bugs"]}


def load_dir(path):
    runs = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".json"):
            with open(os.path.join(path, name)) as f:
                runs[name[:-5]] = summarize(json.load(f)["items"])
    return runs


def seconds(s):
    return "-" if s is None else (f"{s:.2f} s" if s < 1 else f"{s:.1f} s" if s < 10 else f"{s:.0f} s")


def item(name, bug):
    """The first finding item without the planted implementation's name (it is the row's)."""
    if name is None:
        return "-"
    return name.replace(f"/{bug}/", "/").replace(f"+{bug}", "")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", required=True)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--default")
    g.add_argument("--default-dir")
    a = p.parse_args()
    quick = load_all(a.quick)
    default = load_all(a.default) if a.default else load_dir(a.default_dir) if a.default_dir else {}
    names = {b: r for b, r in quick.items()}
    for b in default:
        if b not in names:
            sys.exit(f"planted_table: {b} is in the default-budget runs but not in {a.quick}")

    out = ["| bug | in | --quick: caught by (failed/run items) | first finding | after | case | default: caught by | after | case |",
           "|---|---|---|---|---|---|---|---|---|"]
    for b, q in quick.items():
        d = default.get(b)
        dcells = [d["caughtBy"], seconds(d["toFind"]), "-" if d["shrunk"] is None else str(d["shrunk"])] if d else ["not run", "", ""]
        out.append("| " + " | ".join([b, q["base"], q["caughtBy"], f"`{item(q['first'], b)}`" if q["first"] else "-",
                                       seconds(q["toFind"]), "-" if q["shrunk"] is None else str(q["shrunk"])] + dcells) + " |")
    print("\n".join(out))
    print()

    def line(label, runs):
        n = len(runs)
        caught = [b for b, r in runs.items() if r["caught"]]
        big = [b for b, r in runs.items() if r["caught"] and (r["shrunk"] is None or r["shrunk"] > 8)]
        crashed = sum(r["crashed"] for r in runs.values())
        s = f"- {label}: {len(caught)} of {n} caught ({100 * len(caught) / n:.0f}%)"
        s += "; missed: " + ", ".join(b for b in runs if b not in caught) if len(caught) < n else ""
        s += f"; {len(caught) - len(big)} of {len(caught)} caught bugs shrunk to <= 8 ops"
        s += ("; larger or unshrunk: " + ", ".join(f"{b} ({runs[b]['shrunk']})" for b in big)) if big else ""
        s += f"; {crashed} item(s) reached no verdict" if crashed else ""
        s += f"; {sum(r['seconds'] for r in runs.values()) / 60:.0f} min of item time"
        print(s)

    line("`--quick`", quick)
    if default:
        line(f"default budget ({len(default)} bugs run)", default)


if __name__ == "__main__":
    main()
