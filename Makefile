# The README's two commands: `make run` and `make test`.
# Any Python 3.11 or newer (scripts/python finds one; `make run PYTHON=python3.12` names one).
PYTHON ?=
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what running needs; `make test` adds the database driver and the dev
# tools to the same venv.
RUN_EXTRAS := aws,local,cli
EXTRAS := aws,mysql,local,cli,dev
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck template artifacts scan browser audit unit constraints clean

# A venv that matches pyproject.toml and constraints.txt; rebuilt when either changes.
$(RUN_STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || { py=$$(scripts/python $(PYTHON)) && echo "creating $(VENV) with $$py" && "$$py" -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$(RUN_EXTRAS)]"
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

# The whole system on this machine: SQLite, files on disk and an in-process AWS emulator, all
# under .filestore/ (override: make run PORT=8001 DATA_DIR=/tmp/fs).
PORT ?= 8000
DATA_DIR ?= .filestore
URL = http://127.0.0.1:$(PORT)
run: $(RUN_STAMP)
	@echo "filestore: $(URL)/ (open it in a browser; sign in with your e-mail address)   API docs: $(URL)/docs"
	@echo "in another shell:"
	@echo "  export FILESTORE_ENDPOINT=$(URL)"
	@echo "  $(BIN)/filestore login"
	@echo "  $(BIN)/filestore upload README.md && $(BIN)/filestore ls"
	@echo "or, for scripts: export FILESTORE_TOKEN=\$$($(BIN)/filestore token --data-dir $(DATA_DIR) --email you@example.com | tail -n 1)"
	$(BIN)/filestore serve --port $(PORT) --data-dir $(DATA_DIR)

lint: $(STAMP)
	$(BIN)/ruff check filestore tests bench
	$(BIN)/ruff format --check filestore tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# template.yaml: sam validate --lint, cfn-lint and sam build, offline, with tools in their own venv.
template:
	scripts/check-template

# What would ship, loaded as Lambda loads it: the dependency layer installed for this machine
# (once per deploy/layer/requirements.txt, then reused), each function's artifact, and each
# handler imported with nothing else on the path and the template's environment, its adapters
# built. Fails on a missing dependency, or a layer pin that differs from constraints.txt.
artifacts:
	scripts/check-artifacts

# Security scanners, pinned, in their own venv: checkov on template.yaml, bandit on filestore/.
# Fails on any finding neither fixed nor suppressed where it stands with a reason.
scan:
	scripts/scan

# Known vulnerabilities in the pinned dependencies (pip-audit). Needs a vulnerability database
# reachable (PyPI's JSON API or OSV), so it is not part of `make test`.
audit:
	scripts/audit

# A Chromium for the web app's browser tests: found, or installed from Debian's packages.
browser:
	scripts/chromium >/dev/null

# pytest exit code 5 ("no tests collected") is a failure here, never a silent pass.
test: lint typecheck template artifacts scan browser
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

# Re-pin every dependency to what is installed now (run after changing pyproject.toml).
constraints:
	@test -x $(BIN)/python || { py=$$(scripts/python $(PYTHON)) && "$$py" -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
