# Every target installs what it needs into .venv first, so a fresh clone needs only python3 and node.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The blog example is a TypeScript CDK app: its node_modules come from its committed lockfile.
BLOG_APP := examples/blog/app
BLOG_DEPS := $(BLOG_APP)/node_modules/.installed-stamp

.PHONY: demo test bench install examples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(BLOG_DEPS): $(BLOG_APP)/package-lock.json
	cd $(BLOG_APP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

examples: $(BLOG_DEPS)

demo: $(STAMP)
	$(BIN)/harness demo

# The import contracts (.importlinter) first: a cycle or an upward import fails before any test runs.
test: $(STAMP) $(BLOG_DEPS)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .harness reports $(BLOG_APP)/node_modules
