# The README's two commands: `make reproduce` and `make test`. Both set up .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lock test lint reproduce corpora ptq bench

setup: $(STAMP)

# A new .venv holds about 5.6 GB (torch's CUDA build): refuse early, with the numbers, when the disk lacks it.
SETUP_NEEDS_MB := 6000

$(BIN)/python:
	@free_mb=$$(df -Pm . | awk 'NR==2 {print $$4}'); \
	  test "$$free_mb" -ge $(SETUP_NEEDS_MB) || { echo "make setup: .venv needs about $(SETUP_NEEDS_MB) MB of disk, only $$free_mb MB are free here; free some space and rerun"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3

# Our pins (pyproject.toml), and theirs (constraints.txt), so that a fresh .venv is the one the results used.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# After changing a pin in pyproject.toml: install it without the old constraints, then freeze what .venv holds.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^esc=='; } > constraints.new
	mv constraints.new constraints.txt
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check esc tests benchmarks

test: lint
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WANDB_MODE=offline $(BIN)/pytest -q

corpora: $(STAMP)
	$(BIN)/esc-data corpus=kws
	$(BIN)/esc-data corpus=asr
	$(BIN)/esc-data corpus=sid

# The int8 and int4 tables on the embedded models (zoo/) with the CPU-sized ESC preset and one seed, the
# activation-range figure, then results/tables and results/figures. A second run reuses every finished run.
# The sweeps cover the models shipped in zoo/ (each has a card.json); esc-train adds the others.
ZOO_MODELS := $(shell ls zoo/*/card.json 2>/dev/null | cut -d/ -f2 | paste -sd, -)

reproduce: corpora
	@test -n "$(ZOO_MODELS)" || { echo "no trained model in zoo/: run esc-train model=ast_kws first"; exit 1; }
	$(BIN)/esc-run -m experiment=int8 es=cpu model=$(ZOO_MODELS)
	$(BIN)/esc-run -m experiment=int4 es=cpu model=$(ZOO_MODELS)
	$(BIN)/esc-ranges model=ast_kws
	$(BIN)/esc-tables

# The ptq table: RTN, GPTQ and AdaRound weights under MSE and ESC activation calibration, W4A4 and W4A8.
ptq: corpora
	@test -n "$(ZOO_MODELS)" || { echo "no trained model in zoo/: run esc-train model=ast_kws first"; exit 1; }
	$(BIN)/esc-run -m experiment=ptq es=cpu model=$(ZOO_MODELS)
	$(BIN)/esc-tables

# Fake-quantization overhead and ESC throughput, as ratios measured in one run (not part of `make test`).
# Every model by default; BENCH_ARGS picks some, as the README's command for results/bench/cpu.json does.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)
