#!/usr/bin/env python3
"""The continual-learning tables of docs/RESULTS.md from the runs of reproduce_continual.sh.

Usage: python3 scripts/continual_table.py RUNS_DIR
"""
import json, os, sys

runs = sys.argv[1] if len(sys.argv) > 1 else "runs-continual"
order = ["naive", "joint", "ewc", "online-ewc", "si", "mas", "lwf", "replay", "replay-ace", "generative-replay"]
results = []
for name in sorted(os.listdir(runs)):
    path = os.path.join(runs, name, "results.json")
    if os.path.exists(path):
        results.append((name, json.load(open(path))))
for benchmark, scenario, title in [("split-mnist", "task", "Split MNIST, task-incremental"),
                                   ("split-mnist", "class", "Split MNIST, class-incremental"),
                                   ("permuted-mnist", "domain", "Permuted MNIST (10 tasks), domain-incremental")]:
    rows = [r for _, r in results if r["benchmark"] == benchmark and r["scenario"] == scenario]
    if not rows:
        continue
    rows.sort(key=lambda r: (order.index(r["method"]), r["strength"]))
    print(f"\n{title}\n")
    print("| method | strength | average accuracy | BWT | forgetting | wall time |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        m = r["method"]
        strength = f"{r['strength']:g}" if m in ("ewc", "online-ewc", "si", "mas", "lwf") else (
            f"buffer {r['buffer']}" if m in ("replay", "replay-ace") else "")
        print(f"| {m} | {strength} | {100 * r['average_accuracy']:.2f}% | {100 * r['backward_transfer']:+.2f} "
              f"| {100 * r['forgetting']:.2f} | {r['wall_seconds']:.0f} s |")
