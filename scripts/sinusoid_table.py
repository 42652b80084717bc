"""Markdown table of sinusoid runs: python3 scripts/sinusoid_table.py RUNS_DIR"""
import json, pathlib, sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "runs")
print("| method | K | MSE after 0 steps | 1 step | 5 steps | 10 steps | wall time |")
print("|---|---|---|---|---|---|---|")
for path in sorted(root.glob("sinusoid-*/results.json")):
    r = json.loads(path.read_text())
    fmt = lambda v: f"{v:.3f}" if v >= 0.01 else f"{v:.1e}"
    cells = [f"{fmt(m)} ± {fmt(c)}" if m is not None else "diverged" for m, c in zip(r["mse"], r["ci95"])]
    print(f"| {r['method']} | {r['shots']} | " + " | ".join(cells) + f" | {r['wall_seconds'] / 60:.1f} min |")
