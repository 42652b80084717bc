#!/usr/bin/env python3
"""The Omniglot table of docs/RESULTS.md from the runs of scripts/reproduce_omniglot.sh.

Usage: python3 scripts/omniglot_table.py RUNS_DIR
Prints one markdown row per run: training iterations and minutes, then the mean test accuracy
and 95% interval over 600 episodes in each setting, beside the paper's figure.
"""
import json, pathlib, re, sys

# Paper figures (5w1s, 5w5s, 20w1s, 20w5s): as the few-shot issue quotes them, and relation
# networks from Sung et al. 2018, Table 1.
PAPER = {
    "maml": ("98.7", "99.9", "95.8", "98.9", "Finn et al. 2017"),
    "fomaml": ("98.3", "99.2", "89.4", "97.9", "Finn et al. 2017"),
    "reptile": ("95.39", "98.90", "88.14", "96.65", "Nichol et al. 2018"),
    "protonet": ("98.8", "99.7", "96.0", "98.9", "Snell et al. 2017"),
    "matching": ("98.1", "98.9", "93.8", "98.5", "Vinyals et al. 2016"),
    "meta-sgd": ("99.53", "99.93", "", "", "Li et al. 2017"),
    "anil": ("", "", "96.2", "98.0", "Raghu et al. 2020"),
    "relation": ("99.6", "99.8", "97.6", "99.1", "Sung et al. 2018"),
}
SETTINGS = ["5-way 1-shot", "5-way 5-shot", "20-way 1-shot", "20-way 5-shot"]
LINE = re.compile(r"^(\S+), (\d+)-way (\d+)-shot, checkpoint at iteration (\d+): ([\d.]+)% ± ([\d.]+) over (\d+)")


def main(runs):
    runs = pathlib.Path(runs)
    print("| run | iterations | training minutes | " + " | ".join(SETTINGS) + " | paper (same order) |")
    print("|---|---|---|" + "---|" * len(SETTINGS) + "---|")
    for results in sorted(runs.glob("*/results.json")):
        name = results.parent.name
        r = json.loads(results.read_text())
        cells = {s: "" for s in SETTINGS}
        log = runs / f"{name}.eval.log"
        if log.exists():
            for line in log.read_text().splitlines():
                m = LINE.match(line)
                if m:
                    cells[f"{m[2]}-way {m[3]}-shot"] = f"{m[5]} ± {m[6]}"
        # Without an evaluation log, the run's own final evaluation (its training setting).
        own = f"{r['ways']}-way {r['shots']}-shot"
        if not cells.get(own) and r["test_episodes"] == 600:
            cells[own] = f"{100 * r['accuracy']:.2f} ± {100 * r['ci95']:.2f}"
        done = r["history"][-1]["iteration"] if r["history"] else 0
        paper = PAPER.get(r["method"])
        reference = f"{' / '.join(p or '-' for p in paper[:4])} ({paper[4]})" if paper else ""
        row = [name, str(done), f"{r['wall_seconds'] / 60:.1f}"] + [cells[s] for s in SETTINGS] + [reference]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs")
