# Two commands for a newcomer: `make course` and `make test`.
# Both create (or reuse) the virtual environment .venv in this folder, so a
# machine needs nothing but python3 >= 3.10.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# A stamp names a hash of pyproject.toml: editing the dependencies re-installs,
# running twice does not. The course environment holds what a learner needs
# (the package, JupyterLab, a kernel); `make test` adds the test tools to the
# same .venv, so a learner never downloads Playwright.
HASH    = $(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])" 2>/dev/null)
COURSE_STAMP = $(VENV)/.course-$(HASH)
TEST_STAMP   = $(VENV)/.installed-$(HASH)
NBVAL_SANITIZE := tests/nbval_sanitize.cfg
# Extra flags for Jupyter, e.g. make course JUPYTER_ARGS="--ip=0.0.0.0 --port=8888"
JUPYTER_ARGS ?=

.PHONY: course course-env test unit notebooks figures bench venv check-python clean slides book

check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; bptutor needs Python 3.10 or newer" >&2; exit 1; }
	@$(PYTHON) -c "import sys; v=sys.version_info; sys.exit(0 if v >= (3, 10) else 'error: bptutor needs Python 3.10 or newer, but $(PYTHON) is %d.%d.%d' % v[:3])"
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { echo "error: $(PYTHON) lacks the venv/ensurepip modules (on Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

$(COURSE_STAMP): pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course]"
	@rm -f $(VENV)/.course-*
	@touch $@

$(TEST_STAMP): $(COURSE_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	@rm -f $(VENV)/.installed-*
	@touch $@

course-env: check-python $(COURSE_STAMP)

# The development environment: the course's packages and the test tools.
venv: check-python $(TEST_STAMP)

# JupyterLab rooted at this folder (README, notebooks/ and figures/ all reachable), opened on
# notebook 00; --allow-root when run as root, --no-browser on a machine without a display.
course: course-env
	$(BIN)/python -m bptutor.course launch --root "$(CURDIR)" -- $(JUPYTER_ARGS)

unit: venv
	$(BIN)/python -m pytest -q tests

notebooks: venv
	$(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks --nbval-sanitize-with $(NBVAL_SANITIZE) -p no:cacheprovider

test: venv slides book
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks --nbval-sanitize-with $(NBVAL_SANITIZE) -p no:cacheprovider

# Instructor kit. The front-end files (reveal.js, MathJax, jQuery, require.js) come
# from npm into tools/vendor/node_modules and are copied into the build, so the
# decks and the site open with no network.
VENDOR       := tools/vendor/node_modules/.package-lock.json
KIT_STAMP     = $(VENV)/.installed-kit-$(HASH)

$(VENDOR): tools/vendor/package.json tools/vendor/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm not found; the slides and the website need it once to fetch reveal.js and MathJax (on Debian: apt-get install npm)" >&2; exit 1; }
	cd tools/vendor && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

$(KIT_STAMP): $(TEST_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[course,test,slides,book]"
	@rm -f $(VENV)/.installed-kit-*
	@touch $@

slides: venv $(KIT_STAMP) $(VENDOR)
	$(BIN)/python tools/build_slides.py --out build/slides

book: venv $(KIT_STAMP) $(VENDOR)
	@start=$$(date +%s); $(BIN)/python -m sphinx -q -b html -c book -j 1 . build/book && \
	  echo "website built in $$(( $$(date +%s) - start )) s -> build/book/index.html"

figures: venv
	MPLBACKEND=Agg $(BIN)/python -m bptutor.figures

bench: venv
	$(BIN)/python -m pip install --quiet "micrograd==0.1.0" scikit-learn "torch==2.13.0"
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
