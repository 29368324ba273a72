#!/usr/bin/env bash
# VGG-5 (PCX's, 3x32x32 inputs, gelu, batch 128, float32) training samples/s,
# pctrain beside PyTorch, bp and pc (T = 7). Slow on a 2-core CPU: STEPS
# batches each (default 3 for bp, 2 for pc) after one warm-up batch.
set -euo pipefail
cd "$(dirname "$0")/.."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OPENBLAS_NUM_THREADS=1
TAGS=$(printf 'int main(void){return 0;}' | ${CC:-cc} -x c - -lopenblas -o /dev/null >/dev/null 2>&1 && echo openblas || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -tags "$TAGS" -o "$tmp/train.test" ./internal/train
for m in BP:bp:3 PC7:pc:2; do
  IFS=: read -r name method steps <<<"$m"
  g=$("$tmp/train.test" -test.run '^$' -test.bench "^BenchmarkVGG5Step$name\$" -test.benchtime "${steps}x" | awk '/samples\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="samples/s") print $i}')
  p=-
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    p=$(/usr/bin/python3 bench/torch_ref.py --model vgg5 --method "$method" --T 7 --steps "$steps" | /usr/bin/python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["samples_per_sec"])')
  fi
  g2=$("$tmp/train.test" -test.run '^$' -test.bench "^BenchmarkVGG5Step${name}Split2\$" -test.benchtime "${steps}x" | awk '/samples\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="samples/s") print $i}')
  echo "vgg5 $method: pctrain $g samples/s (1 core), $g2 (2 cores); pytorch $p samples/s (1 thread)"
done
