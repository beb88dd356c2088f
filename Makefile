# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install chromium boundaries clean

$(STAMP): pyproject.toml requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
## As root it is installed with apt-get; otherwise this says what to run instead of calling sudo.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing: run as root: apt-get update && apt-get install -y chromium" >&2; exit 1; \
	  fi; }

## Debian's qgis-common ships Natural Earth's admin-1 shapes (world_map.gpkg) that `mapapp gazetteer build` reads.
boundaries:
	@test -f /usr/share/qgis/resources/data/world_map.gpkg || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends qgis-common >/dev/null; \
	  else \
	    echo "qgis-common is missing: run as root: apt-get update && apt-get install -y --no-install-recommends qgis-common" >&2; exit 1; \
	  fi; }

run: install boundaries
	$(BIN)/mapapp serve

test: install chromium boundaries
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache
