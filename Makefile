# sockstack — the two commands a fresh machine needs are `make run` and `make test`.
# Python tools (cfn-lint, moto, the AWS CLI) are pinned and live in .venv, created on first use.

VENV        := .venv
PY          ?= python3
PY_TOOLS    := cfn-lint==1.51.0 moto[server]==5.2.1 awscli==1.45.11
CARGO       ?= cargo
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test tools lint fmt bench clean

## Synthesize every stack in stacks/ into out/<stack>/.
run:
	$(CARGO) run --quiet --release -- synth

## Every test: unit, CLI integration, cfn-lint on every template, handlers against local AWS parts.
test: tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	scripts/with-moto $(CARGO) test --workspace

## Install the pinned Python tools into .venv.
tools: $(VENV)/.installed

$(VENV)/.installed: Makefile
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

## Benchmarks: whole-process synth timing and peak memory against `sockstack --version`,
## then the in-process criterion benches.
bench:
	$(CARGO) bench -p sockstack --bench cli
	$(CARGO) bench -p sockstack --bench synth

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	rm -rf out $(VENV)

## Cross-build tools for `sockstack bundle --arch arm64`: cargo-zigbuild and zig (PyPI) in .venv,
## plus the Rust standard library for aarch64. x86_64 bundles on x86_64 need none of it.
BUNDLE_TOOLS := cargo-zigbuild==0.24.0 ziglang==0.17.0
ARCH         ?= arm64

.PHONY: bundle bundle-tools bench-handlers

bundle-tools: $(VENV)/.bundle-tools

$(VENV)/.bundle-tools: Makefile
	test -x $(VENV)/bin/pip || $(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(BUNDLE_TOOLS)
	rustup target add aarch64-unknown-linux-gnu
	touch $@

## Build and zip every handler for Lambda: make bundle [ARCH=arm64|x86_64] -> out/assets/<handler>-<hash>.zip
bundle: $(if $(filter arm64,$(ARCH)),bundle-tools)
	$(CARGO) run --quiet --release -- bundle --arch $(ARCH)

## Handler benchmarks: token verification, fan-out vs a sequential loop, start-up time, zip sizes.
bench-handlers:
	$(CARGO) bench -p sockstack-handlers
