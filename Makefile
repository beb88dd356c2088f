# The two commands of the README's quick start: `make run` and `make test`; `make test-fast` and `make lint` beside.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# ESLint and its rules, pinned in package.json and package-lock.json, installed into node_modules/ (not in git).
ESLINT := node_modules/.bin/eslint

.PHONY: run test test-fast lint install chromium gdal boundaries postgres clean

$(STAMP): pyproject.toml requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# $(call apt_need,CHECK,WHAT,PACKAGES): if the shell command CHECK fails, install the Debian PACKAGES with apt-get as
# root; otherwise say (WHAT is missing) what to run as root and fail, rather than calling sudo.
apt_need = @$(1) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq $(3) >/dev/null; \
	  else \
	    echo "$(2) is missing: run as root: apt-get update && apt-get install -y $(3)" >&2; exit 1; \
	  fi; }

## Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
chromium:
	$(call apt_need,test -x /usr/bin/chromium,chromium,chromium)

## GDAL's ogrinfo (Debian gdal-bin): the download tests open the GeoPackage and KML files with it.
gdal:
	$(call apt_need,command -v ogrinfo >/dev/null,ogrinfo,gdal-bin)

## Debian's qgis-common ships Natural Earth's admin-1 shapes (world_map.gpkg) that `mapapp gazetteer build` reads.
boundaries:
	$(call apt_need,test -f /usr/share/qgis/resources/data/world_map.gpkg,qgis-common,--no-install-recommends qgis-common)

## Debian's PostgreSQL and PostGIS: the tests start a server of their own (initdb/pg_ctl in a temporary folder).
postgres:
	$(call apt_need,test -f /usr/share/postgresql/15/extension/postgis.control,PostGIS,postgresql postgresql-15-postgis-3)

run: install boundaries
	$(BIN)/mapapp serve

test: install chromium gdal boundaries postgres lint
	$(BIN)/python -m pytest

## Everything but the browser tests (tests/browser/ and any test that starts Chromium) and the slow ones.
test-fast: install boundaries postgres
	$(BIN)/python -m pytest -m "not browser and not slow"

$(ESLINT): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(ESLINT)

## ruff over the Python (rules in pyproject.toml), ESLint over static/ but static/vendor (eslint.config.js).
## Both run, and either failing fails the target.
lint: install $(ESLINT)
	@status=0; \
	echo "$(BIN)/ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "$(ESLINT)"; $(ESLINT) || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules
