#!/usr/bin/env bash
# Z-IL, Fa-Z-IL and bp against PyTorch's autograd on the model types whose
# graphs pctrain builds itself (rnn, lstm, resmlp, a hand-written graph):
# the same initial weights (pctrain's init, handed to both through
# model.init_from), one full batch, 12 plain SGD steps on the mean
# cross-entropy, float64. Prints the largest |Δ| between the final weights
# of each pctrain method and PyTorch's. Needs Debian's python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
P=${P:-bin/pctrain}
STEPS=12
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY - "$tmp/d.npz" <<'PYEOF'
import sys, numpy as np
r = np.random.default_rng(7)
x = r.normal(size=(32, 12)); y = r.integers(0, 3, size=32)
np.savez(sys.argv[1], x_train=x, y_train=y, x_test=x[:8], y_test=y[:8])
PYEOF
model_yaml() {
  case $1 in
    rnn) echo "{type: rnn, hidden: 8, steps: 4}" ;;
    lstm) echo "{type: lstm, hidden: 8, steps: 4}" ;;
    resmlp) echo "{type: resmlp, hidden: 8, blocks: 2, activation: tanh}" ;;
    graph-skip) echo "{type: graph, vertices: [{name: h1, op: dense, in: [input], out: 8}, {name: h2, op: dense, in: [h1], out: 8, act: gelu}, {name: s, op: add, in: [h2, h1]}, {name: out, op: dense, in: [s], out: 3, act: gelu}]}" ;;
  esac
}
printf '%-11s %-7s %s\n' model method "max|Δ| vs PyTorch (final weights)"
for m in rnn lstm resmlp graph-skip; do
  cat > "$tmp/$m.yaml" <<YEOF
seed: 5
method: bp
dtype: float64
loss: ce
data: {name: npz, path: $tmp/d.npz, batch_size: 32, shuffle: false, val_split: 0, normalize: none}
model: $(model_yaml $m)
optim: {name: sgd, lr: 0.1, momentum: 0, weight_decay: 0, schedule: constant}
train: {epochs: $STEPS, threads: 1}
YEOF
  # The initial weights: one step at learning rate 1e-300 leaves them as
  # drawn (up to 1e-300 in the zero biases); both sides start from the file.
  $P train -q -c "$tmp/$m.yaml" --set optim.lr=1e-300 --set train.max_steps=1 --out "$tmp/$m-init" >/dev/null
  init="$tmp/$m-init/checkpoints/last.safetensors"
  $PY bench/torch_match.py --model $m --init "$init" --data "$tmp/d.npz" --out "$tmp/$m-torch.safetensors" \
    --sgd-steps $STEPS --lr 0.1 --steps 4 --hidden 8 --blocks 2 --activation tanh
  for meth in bp zil fa-zil; do
    $P train -q -c "$tmp/$m.yaml" --set method=$meth --set model.init_from="$init" --out "$tmp/$m-$meth" >/dev/null
    $PY - "$tmp/$m-$meth/checkpoints/last.safetensors" "$tmp/$m-torch.safetensors" $m $meth <<'PYEOF'
import sys
sys.path.insert(0, "bench")
from torch_match import read_safetensors
a, b = read_safetensors(sys.argv[1]), read_safetensors(sys.argv[2])
assert set(a) == set(b), (sorted(a), sorted(b))
d = max(float((a[k] - b[k]).abs().max()) for k in a)
print(f"{sys.argv[3]:<11} {sys.argv[4]:<7} {d:.3g}")
PYEOF
  done
done
