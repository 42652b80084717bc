#!/usr/bin/env bash
# The continual-learning tables of docs/RESULTS.md: split MNIST (task- and class-incremental)
# and permuted MNIST (10 tasks, domain-incremental), every method, ITERATIONS Adam steps
# (rate 1e-3, batch 128) per task on a 784-400-400-10 MLP; the regularisers at several
# strengths. Usage:
#   scripts/reproduce_continual.sh [RUNS_DIR] [ITERATIONS]
# then: python3 scripts/continual_table.py RUNS_DIR
# A run whose results.json exists is kept, not redone. About 45 minutes on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-runs-continual}"
iterations="${2:-500}"
data="${METAGRAD_DATA:-$here/../shared/data}/mnist"
cargo build --release -p metagrad --manifest-path "$here/Cargo.toml"
mkdir -p "$runs"
bin="$runs/metagrad"
# A copy, so rebuilding the workspace meanwhile cannot change the binary mid-table.
cp "$here/target/release/metagrad" "$bin"
run() { # name args...
  local name="$1"; shift
  if [ -f "$runs/$name/results.json" ]; then echo "$name: done before, kept"; return; fi
  "$bin" continual --data "$data" --quiet --iterations "$iterations" --eval-every 100 --out "$runs/$name" "$@" \
    | tee "$runs/$name.log"
}
for scenario in task class; do
  split=(--benchmark split-mnist --scenario "$scenario")
  for method in naive joint replay generative-replay lwf; do run "split-$scenario-$method" "${split[@]}" --method "$method"; done
  for s in 1e2 1e3 1e4 1e5; do run "split-$scenario-ewc-$s" "${split[@]}" --method ewc --strength "$s"; done
  run "split-$scenario-online-ewc-1e4" "${split[@]}" --method online-ewc --strength 1e4
  for s in 0.1 1 10 100; do run "split-$scenario-si-$s" "${split[@]}" --method si --strength "$s"; done
  for s in 0.1 1 10; do run "split-$scenario-mas-$s" "${split[@]}" --method mas --strength "$s"; done
done
# Permuted MNIST: generative replay is left out (a VAE of ten pixel-permuted digit sets needs
# far more than this budget).
permuted=(--benchmark permuted-mnist)
for method in naive joint replay lwf; do run "permuted-$method" "${permuted[@]}" --method "$method"; done
for s in 1e2 1e3 1e4; do run "permuted-ewc-$s" "${permuted[@]}" --method ewc --strength "$s"; done
for s in 1e2 1e3; do run "permuted-online-ewc-$s" "${permuted[@]}" --method online-ewc --strength "$s"; done
for s in 0.1 1 10 100; do run "permuted-si-$s" "${permuted[@]}" --method si --strength "$s"; done
for s in 0.1 1; do run "permuted-mas-$s" "${permuted[@]}" --method mas --strength "$s"; done
# The seeded reruns (docs/RESULTS.md, "Five seeds"): plain and asymmetric replay on
# class-incremental split MNIST, and SI at c = 5 on permuted MNIST with either path integral.
for seed in 0 1 2 3 4; do
  for method in replay replay-ace; do
    run "seeds-split-class-$method-$seed" --benchmark split-mnist --scenario class --method "$method" --seed "$seed"
  done
  run "seeds-permuted-si-5-$seed" "${permuted[@]}" --method si --strength 5 --seed "$seed"
  run "seeds-permuted-si-5-task-gradient-$seed" "${permuted[@]}" --method si --strength 5 --si-task-gradient --seed "$seed"
done
