#!/usr/bin/env python3
"""The self-supervised tables of docs/RESULTS.md from the runs of reproduce_ssl.sh.

Usage: python3 scripts/ssl_table.py RUNS_DIR
"""
import json, os, sys

runs = sys.argv[1] if len(sys.argv) > 1 else "runs-ssl"
order = ["random", "supervised", "simclr", "byol", "barlow-twins", "contrastive", "triplet", "rotation", "jigsaw"]
results = []
for name in sorted(os.listdir(runs)):
    path = os.path.join(runs, name, "results.json")
    if os.path.exists(path):
        results.append((name, json.load(open(path))))

def key(item):
    name, r = item
    return (order.index(r["method"]) if r["method"] in order else 99, r["centroid_weight"], name)

mnist = sorted([x for x in results if x[1]["dataset"] == "mnist"], key=key)
if mnist:
    floor = next((r for _, r in mnist if r["method"] == "random"), None)
    print("\nMNIST, linear probe on frozen features and 20-NN (test accuracy)\n")
    print("| method | steps | probe, 1% labels | vs random | probe, 100% labels | 20-NN | pretraining | evaluation |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in mnist:
        # The run's directory names its variant (mnist-simclr-centroid, mnist-contrastive-margin-1.4).
        label = name.split("-", 1)[1]
        gain = f"{100 * (r['probe_1_percent'] - floor['probe_1_percent']):+.2f}" if floor else ""
        print(f"| {label} | {r['steps']} | {100 * r['probe_1_percent']:.2f}% | {gain} | {100 * r['probe_100_percent']:.2f}% "
              f"| {100 * r['knn']:.2f}% | {r['pretrain_seconds']:.0f} s | {r['evaluation_seconds']:.0f} s |")

omniglot = sorted([x for x in results if x[1]["dataset"] == "omniglot"], key=key)
if omniglot:
    print("\nOmniglot, one-shot nearest neighbour on the 423 held-out characters (600 episodes, 95% CI)\n")
    print("| method | steps | 5-way 1-shot | 20-way 1-shot | pretraining |")
    print("|---|---|---|---|---|")
    for name, r in omniglot:
        five, twenty = r["one_shot_5_way"], r["one_shot_20_way"]
        print(f"| {name.split('-', 1)[1]} | {r['steps']} | {100 * five[0]:.2f} ± {100 * five[1]:.2f}% "
              f"| {100 * twenty[0]:.2f} ± {100 * twenty[1]:.2f}% | {r['pretrain_seconds']:.0f} s |")
