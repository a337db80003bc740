# Two commands for a new user: `make demo` and `make test`. Both install what they need first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean chromium

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "izdat needs Python 3.11 or newer"'
	@$(PY) -m venv $(VENV) 2>/dev/null || { echo "installing python3-venv (needs apt)"; \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get install -y -qq python3-venv && $(PY) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

# The studio's end-to-end test drives Debian's Chromium (never a downloaded browser).
chromium:
	@[ -x /usr/bin/chromium ] || { echo "installing chromium for the studio's browser tests (needs apt)"; \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ $$(id -u) -eq 0 ] || echo sudo ) apt-get install -y -qq chromium; }

demo: $(STAMP)
	$(BIN)/izdat demo examples/song.flac -o out/demo
	@echo "Open out/demo/index.html in a browser: the whole story on one page (the record's files are beside it)"

test: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out test-artifacts
