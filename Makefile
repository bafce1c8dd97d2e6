# sockstack — the two commands a fresh machine needs are `make run` and `make test`.
# Python tools (cfn-lint with the serverless rules, moto, the AWS CLI) are pinned and live in .venv, created on first use.

VENV        := .venv
PY          ?= python3
PY_TOOLS    := cfn-lint==1.51.0 cfn-lint-serverless==0.3.5 moto[server]==5.2.1 awscli==1.45.11
CARGO       ?= cargo
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test tools scan-tools dev-tools scan lint fmt bench bench-quick fuzz clean

## Synthesize every stack in stacks/ into out/<stack>/.
run:
	$(CARGO) run --quiet --release -- synth

## Every test: unit, CLI integration, cfn-lint, checkov and cfn-guard on every template,
## handlers against local AWS parts.
test: tools scan-tools dev-tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	# The example crates (chat, minimal) share binary names with handlers/: tests/init.rs
	# runs their tests inside scaffolded projects instead.
	scripts/with-moto $(CARGO) test --workspace --exclude chat-handlers --exclude minimal-handlers

## Install the pinned Python tools into .venv.
tools: $(VENV)/.installed

$(VENV)/.installed: Makefile
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

## Benchmarks: whole-process synth timing and peak memory against `sockstack --version`,
## then the in-process criterion benches, then `sockstack dev` under load against a no-Lambda baseline
## (release handlers; DynamoDB on moto, then on dynalite from dev-tools).
bench: dev-tools
	$(CARGO) bench -p sockstack --bench cli
	$(CARGO) bench -p sockstack --bench synth
	$(CARGO) bench -p sockstack --bench diff
	$(CARGO) bench -p sockstack --bench input
	$(CARGO) bench -p sockstack --bench dev

## Every sockstack bench once, briefly (CI runs this so a broken bench cannot land):
## criterion's --quick, 3 whole-process runs, the input limits at 1/64 and 1/32 of each, a small dev run
## (debug handlers).
bench-quick: dev-tools
	SOCKSTACK_BENCH_RUNS=3 $(CARGO) bench -p sockstack --bench cli
	$(CARGO) bench -p sockstack --bench synth -- --quick --warm-up-time 0.2 --measurement-time 0.5
	$(CARGO) bench -p sockstack --bench diff -- --quick --warm-up-time 0.2 --measurement-time 0.5
	SOCKSTACK_BENCH_QUICK=1 $(CARGO) bench -p sockstack --bench input -- --quick --warm-up-time 0.2 --measurement-time 0.5
	SOCKSTACK_BENCH_RELEASE=0 SOCKSTACK_BENCH_CONNECTIONS=20 SOCKSTACK_BENCH_VOTES=3 SOCKSTACK_BENCH_MESSAGES=200 $(CARGO) bench -p sockstack --bench dev

## Longer fuzzing than `make test` (property-based, stable Rust): FUZZ_CASES cases per target.
FUZZ_CASES ?= 20000
fuzz:
	SOCKSTACK_FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release -p sockstack --test fuzz

## Policy scanners, pinned, in .tools/: checkov in a venv of its own (it pins an old boto3),
## cfn-guard with the AWS Control Tower proactive-control rules from npm.
TOOLS           := .tools
CHECKOV_VERSION := 3.3.30
GUARD_PACKAGE   := @cdklabs/cdk-validator-cfnguard@0.0.62

scan-tools: $(TOOLS)/.installed

$(TOOLS)/.installed: Makefile
	$(PY) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	npm install --prefix $(TOOLS)/guard --no-audit --no-fund --silent $(GUARD_PACKAGE)
	touch $@

## The browser test of `sockstack dev`'s page: Debian's Chromium (installed when missing; needs root, as CI
## and this machine are) and puppeteer-core, which downloads no browser, pinned in .tools/browser.
## The dev benchmark's second DynamoDB: dynalite (DynamoDB on LevelDB, in memory), pinned in .tools/dynalite.
PUPPETEER := puppeteer-core@25.16.0
DYNALITE  := dynalite@4.0.0

dev-tools: $(TOOLS)/browser/.installed $(TOOLS)/dynalite/.installed

$(TOOLS)/dynalite/.installed: Makefile
	npm install --prefix $(TOOLS)/dynalite --no-audit --no-fund --silent $(DYNALITE)
	touch $@

$(TOOLS)/browser/.installed: Makefile
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	npm install --prefix $(TOOLS)/browser --no-audit --no-fund --silent $(PUPPETEER)
	touch $@

## Only the security gate: checkov, cfn-guard and `sockstack check` on every stack.
scan: scan-tools
	$(CARGO) test -p sockstack --test scan

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	rm -rf out $(VENV) $(TOOLS)

## Cross-build tools for `sockstack bundle --arch arm64`: cargo-zigbuild and zig (PyPI) in .venv,
## plus the Rust standard library for aarch64. x86_64 bundles on x86_64 need none of it.
BUNDLE_TOOLS := cargo-zigbuild==0.24.0 ziglang==0.17.0
ARCH         ?= arm64

.PHONY: bundle bundle-tools bench-handlers bench-handlers-quick

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
	$(CARGO) bench -p sockstack-runtime
	$(CARGO) bench -p sockstack-handlers

## The same benchmarks run once each (criterion's test mode): a quick check for CI that they run to the end.
bench-handlers-quick:
	$(CARGO) test -p sockstack-runtime -p sockstack-handlers --benches
