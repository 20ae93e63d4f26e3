# newswatch — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
OUT    ?= out/samples

.PHONY: run test eval bench clean

# The venv is created once and updated in place when pyproject.toml changes
# (a fresh install of Beam takes minutes; an update only adds what changed).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/newswatch replay samples/feeds --output $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q

# Flag precision/recall and language-ID accuracy, then the dedup benchmark
# (about 4 minutes): results also in out/eval.json and out/dedup_eval.json.
eval: $(STAMP)
	$(VENV)/bin/newswatch eval
	$(PY) -m benchmarks.dedup_eval

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache
