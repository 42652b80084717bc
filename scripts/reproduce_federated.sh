#!/usr/bin/env bash
# The federated-learning tables of docs/RESULTS.md: MNIST across 100 clients (IID: 600
# examples each; non-IID: two 300-example shards of sorted labels each), C = 0.1, the paper's
# 2NN to 97% test accuracy (McMahan et al. 2017); then decentralised SGD on 16 workers over a
# ring, a torus and the complete graph. Usage:
#   scripts/reproduce_federated.sh [RUNS_DIR]
# then: python3 scripts/federated_table.py RUNS_DIR
# A run whose results.json exists is kept, not redone.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-runs-federated}"
data="${METAGRAD_DATA:-$here/../shared/data}/mnist"
cargo build --release -p metagrad --manifest-path "$here/Cargo.toml"
mkdir -p "$runs"
bin="$runs/metagrad"
cp "$here/target/release/metagrad" "$bin"
run() { # name args...
  local name="$1"; shift
  if [ -f "$runs/$name/results.json" ]; then echo "$name: done before, kept"; return; fi
  "$bin" federated --data "$data" --quiet --out "$runs/$name" "$@" | tee "$runs/$name.log"
}
for partition in iid shards; do
  two=(--model 2nn --partition "$partition" --target 0.97)
  run "2nn-$partition-fedsgd" "${two[@]}" --algorithm fedsgd --lr 0.5 --rounds 5000 --eval-every 10
  run "2nn-$partition-fedavg-e1-b10" "${two[@]}" --algorithm fedavg --epochs 1 --batch-size 10 --lr 0.1 --rounds 2000
  run "2nn-$partition-fedavg-e20-b10" "${two[@]}" --algorithm fedavg --epochs 20 --batch-size 10 --lr 0.1 --rounds 500
done
# Decentralised SGD: 16 workers with 3,750 examples each (IID, or two label-sorted shards),
# 10 local steps of batch 10 per round, one gossip step; accuracy of the workers' mean and
# consensus distance per round.
for topology in ring torus complete; do
  run "2nn-consensus-$topology" --model 2nn --algorithm consensus --clients 16 --topology "$topology" \
    --local-steps 10 --batch-size 10 --lr 0.1 --rounds 200 --eval-every 5
  run "2nn-shards-consensus-$topology" --model 2nn --partition shards --algorithm consensus --clients 16 \
    --topology "$topology" --local-steps 10 --batch-size 10 --lr 0.1 --rounds 200 --eval-every 5
done
# The paper's CNN to 99%, IID (docs/RESULTS.md, "The CNN"; about 40 s a FedAvg round and 5 s a
# FedSGD round here, so these take 15 minutes and an hour). Not run by default:
#   run cnn-iid-fedavg-e5-b10 --model cnn --partition iid --target 0.99 --algorithm fedavg \
#     --epochs 5 --batch-size 10 --lr 0.2 --rounds 40 --eval-every 1
#   run cnn-iid-fedsgd --model cnn --partition iid --target 0.99 --algorithm fedsgd \
#     --lr 0.2 --rounds 700 --eval-every 10
# The non-IID CNN rows (--partition shards) need hundreds of rounds each: hours here.
