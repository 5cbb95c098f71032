# Everything a fresh machine needs (Python >= 3.11, Node 20 and npm on PATH) is set up by these targets.
VENV ?= .venv
PY := $(VENV)/bin/python
EXAMPLES := examples/seed-api examples/seed-api-fixed
# A stamp written after npm ci succeeds: an interrupted install (npm ci empties node_modules first) runs again.
NPM_INSTALLED := $(addsuffix /node_modules/.deploysafe-npm-ci,$(EXAMPLES))

.PHONY: demo test setup system-deps test-tools lint bench clean

demo: setup
	@$(VENV)/bin/deploysafe check examples/seed-api; echo "(exit code $$? — 1 means deploy blocked)"

test: setup system-deps test-tools
	@$(PY) -m pytest -n 2 --dist loadfile; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: the suite is broken" >&2; exit 1; fi; \
	exit $$status

setup: $(VENV)/.installed $(NPM_INSTALLED)

system-deps:
	@scripts/system-deps

# Node 18/20.18/22.11/22.23, tsx and tsc from tests/tools' lockfile, into ~/.cache/deploysafe-tests (CI caches it).
test-tools: setup
	@$(PY) -m tests.support.tools

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

examples/%/node_modules/.deploysafe-npm-ci: examples/%/package-lock.json
	cd examples/$* && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(addsuffix /node_modules,$(EXAMPLES))
