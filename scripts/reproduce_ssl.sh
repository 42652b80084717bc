#!/usr/bin/env bash
# The self-supervised tables of docs/RESULTS.md: the small conv encoder pretrained on MNIST by
# every method (600 steps of 128 images), judged by a linear probe with 1% and 100% of the
# labels and by 20-NN; then metric and contrastive encoders on Omniglot's 1,200 training
# characters, judged by 5- and 20-way one-shot nearest neighbour on the other 423. Usage:
#   scripts/reproduce_ssl.sh [RUNS_DIR]
# then: python3 scripts/ssl_table.py RUNS_DIR
# A run whose results.json exists is kept, not redone. STEPS overrides the step count.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-runs-ssl}"
shared="${METAGRAD_DATA:-$here/../shared/data}"
steps="${STEPS:-600}"
cargo build --release -p metagrad --manifest-path "$here/Cargo.toml"
mkdir -p "$runs"
bin="$runs/metagrad"
cp "$here/target/release/metagrad" "$bin"
run() { # name args...
  local name="$1"; shift
  if [ -f "$runs/$name/results.json" ]; then echo "$name: done before, kept"; return; fi
  "$bin" ssl --quiet --out "$runs/$name" "$@" | tee "$runs/$name.log"
}
for method in random supervised simclr byol barlow-twins contrastive triplet rotation jigsaw; do
  run "mnist-$method" --method "$method" --dataset mnist --data "$shared/mnist" --steps "$steps"
done
run mnist-simclr-centroid --method simclr --dataset mnist --data "$shared/mnist" --steps "$steps" --centroid-weight 0.5
# The margin contrastive loss with a wider margin (unit vectors at right angles are sqrt 2 apart).
run mnist-contrastive-margin-1.4 --method contrastive --dataset mnist --data "$shared/mnist" --steps "$steps" --margin 1.4
# The margin contrastive loss through a projection head, as SimCLR's (Chen et al. 2020, 4.2).
run mnist-contrastive-projector --method contrastive --dataset mnist --data "$shared/mnist" --steps "$steps" --projector
# Jigsaw sees 512 tiles of 14x14 a step, half the pixels of the two-view methods' 256
# images of 28x28: at twice the steps it has seen as many pixels, in about their wall time.
run mnist-jigsaw-2x --method jigsaw --dataset mnist --data "$shared/mnist" --steps "$((2 * steps))"
# Omniglot: positives are images of one class (the siamese set-up of Koch et al.) for the
# metric losses; SimCLR learns from views alone.
for method in random contrastive triplet simclr; do
  run "omniglot-$method" --method "$method" --dataset omniglot --data "$shared/omniglot" --steps "$steps"
done
