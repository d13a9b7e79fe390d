# Every target installs what it needs into .venv first, so a fresh clone needs only python3 and node.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The blog example is a TypeScript CDK app: its node_modules come from its committed lockfile.
BLOG_APP := examples/blog/app
BLOG_DEPS := $(BLOG_APP)/node_modules/.installed-stamp

.PHONY: demo test bench install examples clean lock

# The tool's ranges (pyproject.toml) at this repository's exact versions (constraints.txt), plus the
# sample CDK app's libraries (infra/requirements.txt), which the tool itself does not need.
$(STAMP): pyproject.toml constraints.txt infra/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# harness: the distribution's former name, where this clone or venv still has it (its metadata
	@# would register the pytest plugin a second time).
	$(BIN)/pip uninstall --quiet --yes harness 2>/dev/null || true
	rm -rf harness.egg-info
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]' -r infra/requirements.txt
	touch $(STAMP)

install: $(STAMP)

$(BLOG_DEPS): $(BLOG_APP)/package-lock.json
	cd $(BLOG_APP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

examples: $(BLOG_DEPS)

demo: $(STAMP)
	$(BIN)/shardproof demo

# The import contracts (.importlinter) first: a cycle or an upward import fails before any test runs.
test: $(STAMP) $(BLOG_DEPS)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Rewrites constraints.txt from a fresh venv at the newest versions the ranges allow: run it on purpose,
# then `make test`, and commit both.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[test]' -r infra/requirements.txt
	{ sed -n '/^#/p' constraints.txt; .lock-venv/bin/pip freeze --exclude-editable | grep -v '^#'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .lock-venv

clean:
	rm -rf $(VENV) .harness reports $(BLOG_APP)/node_modules
