# The first two commands of the README. Both create .venv on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# setup.cfg's mapped macros/ folder makes the editable install setuptools' import hook, and
# setuptools says so in a ten-line English notice ("BuildBackendWarning: Editable installation
# ... Please be careful with folders ...") that was all a fresh `make demo` showed before the
# demo's own lines. Only that notice is left out; its other modes (compat, strict) warn too.
# tests/test_packaging.py installs with it.
EDITABLE_NOTICE := ignore:Editable installation.::setuptools.command.editable_wheel

.PHONY: demo test venv clean bench wheels fuzz floors

# --no-compile: pip's bytecode would land beside the sources, where no run of ours reads it
# (`make test` and the benchmarks keep theirs under a PYTHONPYCACHEPREFIX, which Python then
# reads alone; this machine kind sets PYTHONDONTWRITEBYTECODE, so a demo compiles in memory
# either way): compiling the ~2,400 modules of the test extras took 3–11 s of a fresh clone's 20–30.
# The venv is made without pip and the current pip put in by the Python's own pip (`pip
# --python`, pip >= 22.3): ensurepip would install its bundled pip (and setuptools on 3.11),
# compiling its ~900 modules, only for the next line to replace it (3-6 s of a fresh clone's
# make; nothing here needs setuptools in the venv: pip builds the package in isolation). A
# Python without a usable pip of its own takes the usual way.
# The package refuses a Python older than its floor (renkei_xl.PYTHON_MIN) in Japanese as it is
# imported: asked first, before a venv of a Python pip would refuse in English
# ("requires a different Python") or one whose patterns match wrongly (3.11.0-3.11.4).
$(STAMP): setup.cfg pyproject.toml
	$(PY) -c "import renkei_xl"
	$(PY) -m venv --without-pip $(VENV)
	$(PY) -m pip --python $(BIN)/python install -q --no-compile --upgrade pip 2>/dev/null \
		|| { $(PY) -m venv --clear $(VENV) && $(BIN)/python -m pip install -q --no-compile --upgrade pip; }
	PYTHONWARNINGS='$(EDITABLE_NOTICE)' $(BIN)/pip install -q --no-compile -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/renkei-xl demo

# One worker more than the cores (pytest-xdist), one test file per worker at a time
# (tests/conftest.py says why). A fifth of the suite waits rather than computes (the package
# index, LibreOffice, the server's and the mail server's time limits, child processes), so
# with a worker per core the machine idled. Fresh clones on an idle 2-core machine, 4,459
# tests: two workers 6:15, three 5:27 and 5:30, four 6:11 (and 10 % more CPU).
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
# Bytecode cached in the venv, as an installed tool has it, whatever the machine sets: the
# suite starts renkei-xl in several hundred child processes, and with PYTHONDONTWRITEBYTECODE
# each compiled the package again (0.2 s a start, about a minute of a fresh clone's run).
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX="$(CURDIR)/$(VENV)/pycache" \
		$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder

# The release fuzzers (tests/fuzz/README.md): each for FUZZ_SECONDS, seeded by FUZZ_SEED (default:
# a new seed, printed), FUZZ_ONLY=parts,csv for some of them, FUZZ_CASE=parts:7:12 to replay one
# case. Findings are kept in .fuzz/; exit code 1 when there is one.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX="$(CURDIR)/$(VENV)/pycache" \
		$(BIN)/python tests/fuzz/fuzz_run.py --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) \
		$(if $(FUZZ_ONLY),--only $(FUZZ_ONLY)) $(if $(FUZZ_CASE),--case $(FUZZ_CASE))

# setup.cfg's dependency floors, each pinned exactly, in .venv-floor, and the test modules that
# go through the libraries (tests/floors.py): what an old offline wheel folder installs.
floors:
	$(PY) tests/floors.py

# button_startup only prints; run.py last, as it exits 1 when a target is missed.
bench: $(STAMP)
	$(BIN)/python benchmarks/button_startup.py
	$(BIN)/python benchmarks/run.py

# Every wheel of the server and the command line, for Windows and Linux, in wheels/ (README:
# オフラインでのインストール). Needs the package index; the folder then installs with none.
wheels: $(STAMP)
	$(BIN)/python deploy/wheels.py --outdir wheels

clean:
	rm -rf $(VENV) .venv-floor build *.egg-info wheels
