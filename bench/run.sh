#!/usr/bin/env bash
# make bench: pctrain beside the PyTorch reference on this machine, side by
# side in one run (medians of ROUNDS interleaved rounds), for what users run:
# the reference MLP (784-256-256-10, tanh, batch 128, float32: bp, pc T = 20,
# zil, ipc T = 20, epc T = 5), PCX's VGG-5 (bp, pc T = 7) and the depth
# curve's skipmlp at depth 128 (width 128, batch 64: bp, epc T = 5); then
# Z-IL's cost against BP, and the peak RSS of an MNIST training run.
# PyTorch runs in its best configuration here (the MLP also on 2 threads;
# the 2-core rows face its faster setting): OPENBLAS_CORETYPE and
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
if ! { [ -x $PY ] && $PY -c 'import torch' 2>/dev/null; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench: installing PyTorch (python3-torch)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch) >/dev/null || true
fi
if [ -x $PY ] && $PY -c 'import torch' 2>/dev/null; then have_torch=1; else
  echo "PyTorch not found (Debian: apt-get install python3-torch); reporting pctrain only"; fi
# Batches per measurement (VGG-5 is slow on a CPU: a few batches each).
VGG_BP=${VGG_BP:-3} VGG_PC=${VGG_PC:-2} SKIP_BP=${SKIP_BP:-20} SKIP_EPC=${SKIP_EPC:-6}

gobench() { # benchmark name → samples/s
  "$tmp/train.test" -test.run '^$' -test.bench "^$1\$" -test.benchtime "${2:-40x}" | awk '/samples\/s/ {for (i=1;i<=NF;i++) if ($(i+1)=="samples/s") print $i}'
}
torchbench() { # method steps [model T warm-up threads] → samples/s
  OPENBLAS_NUM_THREADS="${6:-1}" $PY bench/torch_ref.py --model "${3:-mlp}" --method "$1" --T "${4:-20}" --steps "$2" ${5:+--warmup "$5"} --threads "${6:-1}" | $PY -c 'import json,sys; print(json.load(sys.stdin)["samples_per_sec"])'
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
  gobench BenchmarkRefMLPIPC20 40x >> "$tmp/go-ipc"
  gobench BenchmarkRefMLPEPC5 150x >> "$tmp/go-epc"
  gobench BenchmarkVGG5StepBP "${VGG_BP}x" >> "$tmp/go-vbp"
  gobench BenchmarkVGG5StepPC7 "${VGG_PC}x" >> "$tmp/go-vpc"
  gobench BenchmarkSkipMLP128BP "${SKIP_BP}x" >> "$tmp/go-sbp"
  gobench BenchmarkSkipMLP128EPC "${SKIP_EPC}x" >> "$tmp/go-sepc"
  if [ $have_torch = 1 ]; then
    torchbench bp 400 >> "$tmp/py-bp"
    torchbench pc 60 >> "$tmp/py-pc"
    torchbench bp 400 mlp 20 "" 2 >> "$tmp/py2-bp"
    torchbench pc 60 mlp 20 "" 2 >> "$tmp/py2-pc"
    torchbench ipc 40 >> "$tmp/py-ipc"
    torchbench epc 150 mlp 5 >> "$tmp/py-epc"
    torchbench bp "$VGG_BP" vgg5 20 1 >> "$tmp/py-vbp"
    torchbench pc "$VGG_PC" vgg5 7 1 >> "$tmp/py-vpc"
    torchbench bp "$SKIP_BP" skipmlp >> "$tmp/py-sbp"
    torchbench epc "$SKIP_EPC" skipmlp 5 >> "$tmp/py-sepc"
  fi
  echo "round $r/$ROUNDS done" >&2
done

# FLOPs per image (matmuls only): BP = 3 passes × 2·(784·256 + 256·256 + 256·10);
# PC(T=20) = first-layer prediction once (hoisted: the input is clamped) +
# 21 predictions and 20 VJPs of the two upper layers + one weight gradient.
flops_bp=$((6 * (784*256 + 256*256 + 256*10)))
flops_pc=$((2*784*256 + 41*2*(256*256 + 256*10) + 2*(784*256 + 256*256 + 256*10)))
# ipc (T = 20): every step predicts all layers (the weights move), takes the
# upper layers' VJPs and every weight gradient; then the final prediction.
wall=$((784*256 + 256*256 + 256*10)) wup=$((256*256 + 256*10))
flops_ipc=$((2 * (20 * (2*wall + wup) + wall)))
# epc (T = 5): f_1 once (the input is clamped), T+1 forwards and T reverse
# passes of the upper layers, one weight gradient.
flops_epc=$((2 * (784*256 + 6*wup + 5*wup + wall)))
# VGG-5 per image: forward multiply-adds of its convolutions (32², 16², 8²,
# 4² maps) and the head; bp = 3 passes but the first layer's input gradient;
# pc (T = 7) = the first layer once, 8 predictions and 7 VJPs above it, one
# weight gradient.
v1=$((32*32*128*3*9)) vup=$((16*16*256*128*9 + 8*8*512*256*9 + 4*4*512*512*9 + 2048*10))
flops_vbp=$((2 * (3*(v1 + vup) - v1)))
flops_vpc=$((2 * (v1 + 8*vup + 7*vup + v1 + vup)))
# skipmlp depth 128 per sample: W_1 784×128, 127 hidden 128×128, W_out 128×10.
s1=$((784*128)) sup=$((127*128*128 + 128*10))
flops_sbp=$((2 * (3*sup + 2*s1)))
flops_sepc=$((2 * (s1 + 6*sup + 5*sup + s1 + sup)))
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
# Best against best: the two-core rows face PyTorch at its faster thread count.
best() { if [ -s "$2" ] && awk -v a="$(median < "$1")" -v b="$(median < "$2")" 'BEGIN {exit !(b > a)}'; then echo "$2"; else echo "$1"; fi; }
row "bp, 2 cores" "$tmp/go2-bp" "$(best "$tmp/py-bp" "$tmp/py2-bp")" $flops_bp 2
row "pc, 1 core" "$tmp/go-pc" "$tmp/py-pc" $flops_pc 1
row "pc, 2 cores" "$tmp/go2-pc" "$(best "$tmp/py-pc" "$tmp/py2-pc")" $flops_pc 2
row "zil, 1 core" "$tmp/go-zil" /nonexistent $flops_bp 1
row "ipc, 1 core" "$tmp/go-ipc" "$tmp/py-ipc" $flops_ipc 1
row "epc, 1 core" "$tmp/go-epc" "$tmp/py-epc" $flops_epc 1
row "vgg5 bp" "$tmp/go-vbp" "$tmp/py-vbp" $flops_vbp 1
row "vgg5 pc" "$tmp/go-vpc" "$tmp/py-vpc" $flops_vpc 1
row "skip128 bp" "$tmp/go-sbp" "$tmp/py-sbp" $flops_sbp 1
row "skip128 epc" "$tmp/go-sepc" "$tmp/py-sepc" $flops_sepc 1
echo "(MLP rows above: 784-256-256-10, batch 128; vgg5: batch 128, pc T = 7; skip128: skipmlp"
echo " depth 128, width 128, batch 64, epc T = 5; epc/bp per batch: $(awk -v e="$(median < "$tmp/go-epc")" -v b="$(median < "$tmp/go-bp")" 'BEGIN {printf "%.2f", b/e}')× (MLP),"
echo " $(awk -v e="$(median < "$tmp/go-sepc")" -v b="$(median < "$tmp/go-sbp")" 'BEGIN {printf "%.2f", b/e}')× (skip128);"
[ -s "$tmp/py2-bp" ] && echo " PyTorch on 2 threads: bp $(median < "$tmp/py2-bp" | xargs printf '%.0f'), pc $(median < "$tmp/py2-pc" | xargs printf '%.0f') samples/s (the 2-core rows use its faster setting);"
echo " other rows: PyTorch on one thread, its best setting here; pctrain on 2 cores splits each batch in"
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
