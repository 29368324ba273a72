#!/usr/bin/env bash
# make bench: pctrain beside the PyTorch reference on this machine, side by
# side in one run (medians of ROUNDS rounds), for the reference MLP
# (784-256-256-10, tanh, batch 128, float32): bp, pc (T = 20) and zil;
# then Z-IL's cost against BP, and the peak RSS of an MNIST training run.
# PyTorch runs in its best configuration here: OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset, one thread; pctrain under the same environment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OPENBLAS_NUM_THREADS=1
TAGS=$(printf 'int main(void){return 0;}' | ${CC:-cc} -x c - -lopenblas -o /dev/null >/dev/null 2>&1 && echo openblas || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -tags "$TAGS" -o "$tmp/train.test" ./internal/train
PY=${PY:-/usr/bin/python3} # the Python with torch (Debian: python3-torch)
have_torch=0
if [ -x $PY ] && $PY -c 'import torch' 2>/dev/null; then have_torch=1; else
  echo "PyTorch not found (Debian: apt-get install python3-torch); reporting pctrain only"; fi

gobench() { # benchmark name → samples/s
  "$tmp/train.test" -test.run '^$' -test.bench "^$1\$" -test.benchtime "${2:-40x}" | awk '/samples\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="samples/s") print $i}'
}
torchbench() { # method [steps] → samples/s
  $PY bench/torch_ref.py --model mlp --method "$1" --T 20 --steps "${2:-40}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["samples_per_sec"])'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Each measurement runs ~1-2 s of steady state (PyTorch's first steps and
# short runs read low on this VM, which would flatter pctrain).
for r in $(seq "$ROUNDS"); do
  gobench BenchmarkRefMLPBP 400x >> "$tmp/go-bp"
  gobench BenchmarkRefMLPPC20 60x >> "$tmp/go-pc"
  gobench BenchmarkRefMLPZIL 400x >> "$tmp/go-zil"
  gobench BenchmarkRefMLPBPSplit2 400x >> "$tmp/go2-bp"
  gobench BenchmarkRefMLPPC20Split2 60x >> "$tmp/go2-pc"
  if [ $have_torch = 1 ]; then
    torchbench bp 400 >> "$tmp/py-bp"
    torchbench pc 60 >> "$tmp/py-pc"
  fi
  echo "round $r/$ROUNDS done" >&2
done

# FLOPs per image (matmuls only): BP = 3 passes × 2·(784·256 + 256·256 + 256·10);
# PC(T=20) = first-layer prediction once (hoisted: the input is clamped) +
# 21 predictions and 20 VJPs of the two upper layers + one weight gradient.
flops_bp=$((6 * (784*256 + 256*256 + 256*10)))
flops_pc=$((2*784*256 + 41*2*(256*256 + 256*10) + 2*(784*256 + 256*256 + 256*10)))
# The machine's fp32 peak per core: clock × FLOPs per cycle (two FMA units:
# 64 with AVX-512, 32 with AVX2, 16 otherwise; an assumption, stated below).
mhz=$(awk -F: '/^cpu MHz/ {print $2; exit}' /proc/cpuinfo)
fpc=16; grep -qw avx2 /proc/cpuinfo && fpc=32; grep -qw avx512f /proc/cpuinfo && fpc=64
peak1=$(awk -v m="${mhz:-0}" -v f=$fpc 'BEGIN {printf "%.0f", m*f/1000}')
printf '\n%-14s %12s %12s %8s %9s %7s\n' method pctrain/s pytorch/s ratio GFLOP/s "% peak"
row() { # label pctrain-file pytorch-file flops cores
  g=$(median < "$2")
  gf=$(awk -v s="$g" -v f="$4" 'BEGIN {printf "%.1f", s*f/1e9}')
  pk=$(awk -v g="$gf" -v p="$peak1" -v c="$5" 'BEGIN {if (p > 0) printf "%.0f%%", 100*g/(p*c); else print "-"}')
  if [ $have_torch = 1 ] && [ -s "$3" ]; then
    p=$(median < "$3")
    printf '%-14s %12.0f %12.0f %8.2f %9s %7s\n' "$1" "$g" "$p" "$(awk -v a="$g" -v b="$p" 'BEGIN {print a/b}')" "$gf" "$pk"
  else
    printf '%-14s %12.0f %12s %8s %9s %7s\n' "$1" "$g" - - "$gf" "$pk"
  fi
}
row "bp, 1 core" "$tmp/go-bp" "$tmp/py-bp" $flops_bp 1
row "bp, 2 cores" "$tmp/go2-bp" "$tmp/py-bp" $flops_bp 2
row "pc, 1 core" "$tmp/go-pc" "$tmp/py-pc" $flops_pc 1
row "pc, 2 cores" "$tmp/go2-pc" "$tmp/py-pc" $flops_pc 2
row "zil, 1 core" "$tmp/go-zil" /nonexistent $flops_bp 1
echo "(PyTorch on one thread, its best setting here; pctrain on 2 cores splits each batch in"
echo " halves (train.threads); PyTorch has no zil; GFLOP/s is pctrain's, matmul FLOPs only;"
echo " % peak against $peak1 GFLOP/s per core = ${mhz%.*} MHz × $fpc FLOP/cycle (assumes two FMA units);"
echo " medians of $ROUNDS rounds; $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"

echo
echo "Z-IL against BP on the MNIST MLP: median over 300 back-to-back pairs of the time ratio, $ROUNDS runs:"
"$tmp/train.test" -test.run '^$' -test.bench 'BenchmarkRatio(Update)?ZILOverBP$' -test.benchtime 300x -test.count "$ROUNDS" | grep zil/bp | awk '{print "  " $1 " " $5 " zil/bp"}'

echo
if [ -d datasets/mnist ] && [ -x /usr/bin/time ]; then
  go build -tags "$TAGS" -o "$tmp/pctrain" ./cmd/pctrain
  /usr/bin/time -v "$tmp/pctrain" train -c configs/mnist-pc.yaml --set train.epochs=2 --out "$tmp/run" -q 2> "$tmp/time.txt" >/dev/null
  echo "peak RSS of an MNIST MLP pc training run (2 epochs, with evaluation and checkpoints): $(awk -F: '/Maximum resident/ {print $2/1024 " MB"}' "$tmp/time.txt")"
else
  echo "peak RSS: run 'make data' first (and install 'time') to measure it"
fi
