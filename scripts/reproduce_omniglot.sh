#!/usr/bin/env bash
# The Omniglot few-shot table of docs/RESULTS.md: every method trained for 5-way 1-shot, each
# run stopped by a wall-clock budget, then the trained models evaluated on 600 test episodes
# of each setting they apply to (5/20-way, 1/5-shot). Usage:
#   scripts/reproduce_omniglot.sh [RUNS_DIR] [SCALE]
# SCALE multiplies every time budget (1 = the budgets of the table: about 75 minutes of
# training on 2 cores, then over an hour of evaluation). Then: python3 scripts/omniglot_table.py RUNS_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-runs}"
scale="${2:-1}"
data="${METAGRAD_DATA:-$here/../shared/data}/omniglot"
cargo build --release -p metagrad --manifest-path "$here/Cargo.toml"
mkdir -p "$runs"
bin="$runs/metagrad"
# A copy, so rebuilding the workspace meanwhile cannot change the binary mid-table.
cp "$here/target/release/metagrad" "$bin"
minutes() { python3 -c "print($1 * $scale)"; }
anchors="$here/../shared/anchors/omniglot/results"
# The table's runs drew their weights with `--init uniform` (the layers' defaults), except
# first-order MAML, which uses the reference's initialisation and stops at 250 iterations to
# compare with the reference curve at equal iterations (docs/RESULTS.md says why).
train() { # name minutes args... (a run whose results.json exists is kept, not redone)
  local name="$1" budget; budget="$(minutes "$2")"; shift 2
  if [ -f "$runs/$name/results.json" ]; then echo "$name: done before, kept"; return; fi
  "$bin" fewshot --data "$data" --quiet --minutes "$budget" --iterations "${iterations:-100000}" \
    --init "${init:-uniform}" --out "$runs/$name" "$@" | tee "$runs/$name.log"
}
# Prototypical networks: 60-way training episodes with 5 queries, rate halved every 2000 steps.
proto=(--method protonet --train-ways 60 --queries 5 --meta-batch 1 --halve-lr-every 2000 --eval-every 200)
# (the reference's 20-way runs train the same way, so this one model is evaluated on both)
train protonet-5w1s 15 "${proto[@]}" --ways 5 --eval-episodes 200 --reference "$anchors/proto_5w1s.jsonl"
# The MAML family: one inner step of 0.4 in training, three at test (Finn et al. 2017).
train maml-5w1s 20 --method maml --ways 5 --meta-batch 16 --queries 5 --eval-every 50 --eval-episodes 200 \
  --reference "$anchors/maml_5w1s_mb16_q5.jsonl"
init=reference iterations=250 train fomaml-5w1s 60 --method fomaml --ways 5 --meta-batch 32 --queries 15 --eval-every 50 --eval-episodes 200 \
  --reference "$anchors/fomaml_5w1s.jsonl"
train anil-5w1s 3 --method anil --ways 5 --meta-batch 16 --queries 5 --eval-every 50 --eval-episodes 200
train meta-sgd-5w1s 3 --method meta-sgd --ways 5 --meta-batch 16 --queries 5 --eval-every 50 --eval-episodes 200
# Reptile: five SGD steps of 0.1 on five shots per class (Nichol et al. train on more shots
# than they test), five steps at test.
train reptile-5w1s 3 --method reptile --ways 5 --train-shots 5 --queries 1 --meta-batch 5 --inner-steps 5 \
  --inner-lr 0.1 --test-steps 5 --eval-every 50 --eval-episodes 200
# Metric methods: 5-way episodes with 15 queries, two per step.
for method in matching relation siamese triplet; do
  train "$method-5w1s" 3 --method "$method" --ways 5 --meta-batch 2 --eval-every 100 --eval-episodes 200
done
# The baseline: pretraining on all 4800 training classes, then 100 steps on a new head.
train finetune-5w1s 3 --method finetune --ways 5 --meta-batch 2 --batch-size 64 --eval-every 100 --eval-episodes 200
train nearest-neighbour-5w1s 1 --method nearest-neighbour --ways 5
# Every model evaluated in the other settings it applies to (the MAML family's heads are
# 5-way, so those are evaluated on 5-way only).
evaluate() { # run method args...
  local run="$1"; shift
  for setting in "5 1" "5 5" "20 1" "20 5"; do
    read -r ways shots <<<"$setting"
    case "$run" in maml*|fomaml*|anil*|meta-sgd*|reptile*) [ "$ways" = 5 ] || continue ;; esac
    # Relation networks score every (query, class) pair with a conv module: 6,000 pairs per
    # 20-way episode, hours for 600 episodes on 2 cores.
    case "$run" in relation*) [ "$ways" = 5 ] || continue ;; esac
    "$bin" fewshot --data "$data" --eval --checkpoint "$runs/$run/checkpoint.safetensors" --ways "$ways" \
      --shots "$shots" "$@" | tee -a "$runs/$run.eval.log"
  done
}
rm -f "$runs"/*.eval.log
evaluate protonet-5w1s --method protonet --queries 5
evaluate maml-5w1s --method maml --queries 5
evaluate fomaml-5w1s --method fomaml
evaluate anil-5w1s --method anil --queries 5
evaluate meta-sgd-5w1s --method meta-sgd --queries 5
evaluate reptile-5w1s --method reptile --inner-steps 5 --inner-lr 0.1 --test-steps 5
for method in matching relation siamese triplet; do evaluate "$method-5w1s" --method "$method"; done
evaluate finetune-5w1s --method finetune
evaluate nearest-neighbour-5w1s --method nearest-neighbour
