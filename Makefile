# pctrain: `make train` sets up, fetches MNIST and trains configs/mnist-pc.yaml;
# `make test` runs the test suite. Both work on a fresh machine.

GO      ?= go
CC      ?= cc
BIN     := bin/pctrain
CONFIG  ?= configs/mnist-pc.yaml
ARGS    ?=
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

# The fast path: OpenBLAS for every GEMM when it links on this machine
# (`make setup` installs it where it can), pure Go otherwise. Evaluated when
# used, so after `setup` has run.
TAGS = $(shell printf 'int main(void){return 0;}' | $(CC) -x c - -lopenblas -o /dev/null >/dev/null 2>&1 && echo openblas)

.PHONY: all setup build data train test bench clean

all: build

# Installs OpenBLAS (Debian's libopenblas-dev) when running as root with
# apt-get; anywhere else pctrain builds in pure Go.
setup:
	@if printf 'int main(void){return 0;}' | $(CC) -x c - -lopenblas -o /dev/null >/dev/null 2>&1; then \
		echo "setup: OpenBLAS found"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "setup: installing OpenBLAS (libopenblas-dev)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev) >/dev/null \
			|| echo "setup: OpenBLAS install failed; using the pure-Go backend"; \
	else \
		echo "setup: no OpenBLAS (install libopenblas-dev for the fast path); using the pure-Go backend"; \
	fi
	$(GO) mod download

build: setup
	$(GO) build -tags '$(TAGS)' -ldflags '-X main.version=$(VERSION)' -o $(BIN) ./cmd/pctrain
	@$(BIN) version | sed -n 's/^backend: /build: backend /p'

data: build
	$(BIN) data fetch mnist

train: data
	$(BIN) train --config $(CONFIG) $(ARGS)

# The whole suite, on the fast path (OpenBLAS, C element-wise kernels),
# plus the numeric packages again on the fallback that needs no cgo
# (gonum's GEMM, Go loops).
test: setup
	$(GO) vet -tags '$(TAGS)' ./...
	$(GO) test -tags '$(TAGS)' -count=1 ./...
	CGO_ENABLED=0 $(GO) vet ./...
	CGO_ENABLED=0 $(GO) test -count=1 ./internal/tensor ./internal/model ./internal/relax ./internal/optim

# pctrain beside PyTorch (if installed: Debian's python3-torch), Z-IL's cost
# against BP, and peak RSS; see bench/run.sh.
bench: setup
	bash bench/run.sh

clean:
	rm -rf bin
