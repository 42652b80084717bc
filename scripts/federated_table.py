#!/usr/bin/env python3
"""The federated-learning tables of docs/RESULTS.md from the runs of reproduce_federated.sh
(each run's own accuracy-per-round plot is in its directory).

Usage: python3 scripts/federated_table.py RUNS_DIR
"""
import json, os, sys

runs = sys.argv[1] if len(sys.argv) > 1 else "runs-federated"
results = {}
for name in sorted(os.listdir(runs)):
    path = os.path.join(runs, name, "results.json")
    if os.path.exists(path):
        results[name] = json.load(open(path))

print("| model | partition | algorithm | E | B | rate | rounds to target | final accuracy | MB carried | wall time |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, r in results.items():
    if r["algorithm"] == "consensus":
        continue
    e = "1" if r["algorithm"] == "fedsgd" else str(r["epochs"])
    b = "inf" if r["algorithm"] == "fedsgd" or r["batch_size"] == 0 else str(r["batch_size"])
    reached = r["rounds_to_target"]
    mb = r["curve"][-1]["megabytes"] if r["curve"] else 0.0
    to = f"{reached}" if reached is not None else f"not in {r['rounds']}"
    print(f"| {r['model']} | {r['partition']} | {r['algorithm']} | {e} | {b} | {r['lr']:g} | {to} "
          f"| {100 * r['final_accuracy']:.2f}% | {mb:.0f} | {r['wall_seconds']:.0f} s |")

print("\n| topology | partition | accuracy after 50 / 100 / 200 rounds | consensus distance after 50 / 200 | wall time |")
print("|---|---|---|---|---|")
for name, r in results.items():
    if r["algorithm"] != "consensus":
        continue
    at = {p["round"]: p for p in r["curve"]}
    acc = " / ".join(f"{100 * at[k]['accuracy']:.2f}%" if k in at else "-" for k in (50, 100, 200))
    dist = " / ".join(f"{at[k]['consensus_distance']:.2e}" if k in at else "-" for k in (50, 200))
    print(f"| {r['topology']} | {r['partition']} | {acc} | {dist} | {r['wall_seconds']:.0f} s |")
