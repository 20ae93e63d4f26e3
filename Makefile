# newswatch — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
OUT    ?= out/samples
# Headless Chromium for the review desk's browser tests: Debian's package,
# installed when missing (CI runs as root; elsewhere through sudo). Defined
# here because a rule's prerequisites are expanded when make reads the rule.
CHROMIUM := /usr/bin/chromium
SUDO     := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test eval bench clean
.PHONY: review chromium screenshots
.PHONY: stream

# The venv is created once and updated in place when pyproject.toml changes
# (a fresh install of Beam takes minutes; an update only adds what changed).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The project's modules compiled to bytecode, as pip compiles an installed
# package's: a run then starts without compiling them (quick when up to date).
BYTECODE := $(PY) -m compileall -q connectors pipelines transforms

run: $(STAMP)
	$(BYTECODE)
	$(VENV)/bin/newswatch replay samples/feeds --output $(OUT)

test: $(STAMP) $(CHROMIUM)
	$(BYTECODE)
	$(PY) -m pytest -q

# Flag precision/recall and language-ID accuracy, then the dedup benchmark
# (about 4 minutes): results also in out/eval.json and out/dedup_eval.json.
eval: $(STAMP)
	$(VENV)/bin/newswatch eval
	$(PY) -m benchmarks.dedup_eval

bench: $(STAMP)
	$(BYTECODE)
	$(PY) -m benchmarks

# Continuous monitoring on this machine: the Pub/Sub emulator, the samples on a
# loopback server, poller, streaming pipeline and consumer; Ctrl-C stops all.
stream: $(STAMP)
	$(PY) -m deploy.local_stack --store out/stream/review.db --workdir out/stream

clean:
	rm -rf $(VENV) out .pytest_cache

# Headless Chromium for the review desk's browser tests: its rule is below.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

chromium: $(CHROMIUM)

# The review desk on the store `make stream` fills; without one, on a store
# built once from the bundled samples, so a new user sees the page at once.
# Extra options: make review REVIEW_ARGS="--port 8081 --archive DIR".
REVIEW_STORE ?= $(if $(wildcard out/stream/review.db),out/stream/review.db,$(OUT)/review.db)
review: $(STAMP)
	test -f $(REVIEW_STORE) || $(VENV)/bin/newswatch replay samples/feeds --output $(OUT) --store $(REVIEW_STORE) --quiet
	$(VENV)/bin/newswatch review serve --store $(REVIEW_STORE) $(REVIEW_ARGS)

# The README's screenshots of the desk (docs/img), made by the browser test.
screenshots: $(STAMP) $(CHROMIUM)
	NEWSWATCH_SCREENSHOTS=docs/img $(PY) -m pytest -q tests/test_desk_browser.py -k screenshots

# Real Beam engines, built outside the checkout in a cache that survives
# between runs ($NEWSWATCH_ENGINES, default ~/.cache/newswatch-engines):
# Prism from its Go module at the installed SDK's version, and the Flink and
# Spark job servers from Beam's Maven modules (docs/engines.md says why they
# are assembled rather than downloaded, and why Beam is pinned to 2.62).
# Warm, `make engines` takes seconds; cold, about 5 to 10 minutes.
.PHONY: engines prism jars test-engines bench-engines
engines: prism jars

prism: $(STAMP)
	engines/build_prism.sh $(PY)

jars:
	engines/fetch_jars.sh

test-engines: $(STAMP) engines
	$(PY) -m pytest -q -m engines tests/engines

# The full real-feed replay on Flink and Spark against FnApiRunner, best of 3
# (engines/runner_bench.py; not part of `make bench`, which needs no engines).
bench-engines: $(STAMP) engines
	$(PY) engines/runner_bench.py --runs 3 --engines flink,spark
