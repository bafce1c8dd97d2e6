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

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	rm -rf out $(VENV)
