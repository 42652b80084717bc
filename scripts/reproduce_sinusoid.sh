#!/usr/bin/env bash
# The sinusoid table of docs/RESULTS.md: every method, K = 5 and 10, 70k meta-iterations each,
# evaluated on the anchors' 100 fixed test tasks. Usage:
#   scripts/reproduce_sinusoid.sh [RUNS_DIR] [THREADS]
# Then: python3 scripts/sinusoid_table.py RUNS_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-runs}"
threads="${2:-2}"
tasks="$here/../shared/anchors/data/sinusoid_test_tasks.json"
cargo build --release -p metagrad --manifest-path "$here/Cargo.toml"
# A copy, so rebuilding the workspace meanwhile cannot change the binary mid-table.
mkdir -p "$runs"
bin="$runs/metagrad"
cp "$here/target/release/metagrad" "$bin"
for k in 10 5; do
  for method in maml fomaml meta-sgd anil r2d2 reptile pretrained; do
    extra=()
    # Reptile moves towards weights adapted over several steps; one step would be joint training.
    if [ "$method" = reptile ]; then extra=(--inner-steps 5); fi
    "$bin" sinusoid --method "$method" --shots "$k" --iterations 70000 --eval-every 5000 \
      --test-tasks "$tasks" --threads "$threads" --quiet --out "$runs/sinusoid-$method-k$k" "${extra[@]}"
  done
done
