# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install chromium gdal clean

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

## GDAL's ogrinfo (Debian gdal-bin): the download tests open the GeoPackage and KML files with it.
gdal:
	@command -v ogrinfo >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq gdal-bin >/dev/null; \
	  else \
	    echo "ogrinfo is missing: run as root: apt-get update && apt-get install -y gdal-bin" >&2; exit 1; \
	  fi; }

run: install
	$(BIN)/mapapp serve

test: install chromium gdal
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache
