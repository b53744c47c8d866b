# Cairn: `make demo` runs the whole market on embedded defaults, `make test` runs every test.
# Every target installs what it needs first (`make setup`, idempotent, cached under $(CAIRN_CACHE)).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export CAIRN_CACHE ?= $(HOME)/.cache/cairn
# Native Foundry binaries, the solc adapter and Kubo, installed by `make setup`.
export PATH := $(CURDIR)/.tools/bin:$(PATH)
FOUNDRY_PROFILE ?= default
export FOUNDRY_PROFILE

.PHONY: help setup demo demo-scenarios devnet devnet-down devnet-status web test test-contracts test-halmos test-rust test-web test-selftest lint artifacts vectors vectors-check gas-snapshot fmt mutate mutate-recheck bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install the pinned toolchain into .tools/ (Foundry, solc adapter, OpenZeppelin, Kubo, MiniLM)
	@scripts/setup.sh

demo: setup ## the whole market on embedded defaults, told step by step (a fresh devnet, runners, verifiers, a watcher, a seller and a buyer); stops all it started
	@scripts/demo.py $(if $(SCENARIO),--scenario $(SCENARIO))

demo-scenarios: setup ## every adversarial scenario of `make demo SCENARIO=…`, each asserting its outcome (CI runs it)
	@for s in cheat audit grief silent-juror timeouts tamper gasless; do scripts/demo.py --scenario $$s || exit 1; done

devnet: setup ## start anvil (chain 31337, :8545) and Kubo (:5001) in the background; state in .devnet/
	@scripts/devnet.sh up

devnet-down: ## stop the devnet started by `make devnet`
	@scripts/devnet.sh down

devnet-status: ## show whether the devnet answers
	@scripts/devnet.sh status

web: ## build the buyers' web app into web/dist (cairn-indexer serves it at /app/; make demo builds it too)
	@scripts/web.sh build

test: setup test-contracts test-halmos test-rust test-web test-selftest ## every test: forge, halmos, cargo, the web app (unit + headless Chromium), and the self-test of this Makefile

test-contracts: setup ## forge tests (FOUNDRY_PROFILE=ci for the heavy fuzz profile), then the gas benchmarks as tests
	forge test
	@# `make bench`'s gas benchmarks (contracts/bench), run here so a contract change that breaks them fails a test
	@# (the jury-at-scale bench sat broken for a session when createDispute's extraData grew).
	FOUNDRY_PROFILE=default FOUNDRY_TEST=contracts/bench forge test --isolate --match-contract GasBench
	FOUNDRY_GAS_LIMIT=18446744073709551615 FOUNDRY_PROFILE=default FOUNDRY_TEST=contracts/bench forge test --match-contract JuryScaleBench

test-halmos: setup ## symbolic proofs of the typed-data digests and the money splits (halmos)
	@scripts/halmos.sh

test-rust: setup ## cargo tests of the whole workspace (integration tests start real anvil and Kubo); failures' panic messages repeated at the end
	@scripts/cargo-test.sh --workspace --locked
	@# The GPU energy counter's code (the `nvml` feature `cuda` builds include; it builds and falls back on any machine).
	@# `--workspace`, not `-p cairn-runner`: features unified as in the run above, so only the runner recompiles (a
	@# `-p` build resolves its dependencies' features anew and rebuilt ~6 min of crates on a cold CI machine).
	cargo test --workspace --locked --features cairn-runner/nvml --lib energy

test-web: setup ## the web app: unit tests (vitest, on the vectors Rust runs too), the build with its page-weight budget, then end to end in headless Chromium against a fresh devnet (scripts/demo.py --scenario web; screenshots in web/test-results/)
	@scripts/web.sh test
	@scripts/web.sh build
	@scripts/demo.py --scenario web

test-selftest: setup ## proves a failing forge test fails `make test-contracts`
	@scripts/selftest-make-test.sh

lint: setup ## the CI lint gates (formatting, clippy, forge lint, code sizes, artifact drift, gas snapshot, Slither)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	forge fmt --check
	@scripts/forge-lint.sh
	@echo "==> contract sizes within EIP-170 / EIP-3860"
	@FOUNDRY_PROFILE=default forge build --sizes --skip test --skip script >/dev/null || { FOUNDRY_PROFILE=default forge build --sizes --skip test --skip script; exit 1; }
	cargo xtask artifacts --check
	FOUNDRY_PROFILE=default forge snapshot $(GAS_SNAPSHOT_FILTER) --check
	@scripts/slither.sh

# Gas snapshot: unit tests only (fuzz and invariant gas varies with the run count), default profile.
GAS_SNAPSHOT_FILTER := --no-match-test "testFuzz_|invariant_"

artifacts: setup ## recompile contracts/ into services/bindings/artifacts (commit the result)
	cargo xtask artifacts

VECTORS := testdata/vectors/eip712.json

vectors: setup ## regenerate the EIP-712 vectors' hashes and signatures with cast (commit the result)
	@scripts/vectors.py $(VECTORS)

vectors-check: setup ## fail when cast derives other hashes or signatures than testdata/vectors holds
	@scripts/vectors.py --check $(VECTORS)

gas-snapshot: setup ## rewrite .gas-snapshot after an intended gas change
	FOUNDRY_PROFILE=default forge snapshot $(GAS_SNAPSHOT_FILTER)

fmt: setup ## format Rust and Solidity
	cargo fmt --all
	forge fmt

mutate: setup ## mutation testing of the money contracts (slow: ~6 s per mutant with solcjs; hours; not in CI)
	@scripts/mutate.sh

mutate-recheck: setup ## re-judge the survivors of the last `make mutate` runs against the current tests
	@scripts/mutate.sh --recheck

bench: setup ## measure and write BENCHMARKS.md
	@scripts/bench.sh

clean: ## remove build outputs (keeps the toolchain cache, and the devnet: `make devnet-down` stops it)
	rm -rf out cache target
