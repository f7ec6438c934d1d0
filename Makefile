# The three commands of the README. Each installs what is missing first (scripts/bootstrap).
.PHONY: demo test checkpoint bench lint bootstrap mutants i18n-extract i18n-check field

PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

bootstrap:
	@scripts/bootstrap

demo: bootstrap
	.venv/bin/checkpass hub demo --host $(HOST) --port $(PORT)

test: bootstrap
	.venv/bin/ruff check .
	$(PY) scripts/run-tests $(PYTEST_ARGS)

# Runs the Kivy app (needs a display). CAMERA=0 for the first camera, or CAMERA=file:PATH (a folder
# plays its images in turn); SIZE=WxH for the window (e.g. SIZE=1280x800 on a landscape desktop).
CAMERA ?= 0
checkpoint: bootstrap
	.venv/bin/checkpass checkpoint --camera $(CAMERA) $(if $(HUB),--hub $(HUB),) $(if $(SIZE),--size $(SIZE),)

bench: bootstrap
	$(PY) bench/verify.py
	$(PY) bench/status.py
	$(PY) bench/scan.py
	$(PY) bench/stuck_hub.py
	$(PY) bench/ingest.py
	$(PY) bench/pass_sheet.py
	$(PY) bench/line.py
	$(PY) bench/console.py
	$(PY) bench/id_card_ocr.py

# The production layout of deploy/ (nginx TLS, two hubs, PostgreSQL) under a compressed day of the city,
# with faults (docs/deploy.md). Needs root (it makes and restarts a PostgreSQL cluster of its own).
SECONDS_OF_DAY ?= 240
field: bootstrap
	$(PY) deploy/rehearsal/field.py --seconds $(SECONDS_OF_DAY)

lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# Mutation testing (slow, not in CI): MODULES="verify sync" for some; scripts/mutants.py --list shows them.
mutants: bootstrap
	$(PY) scripts/mutants.py $(MODULES)

# The message catalogue (docs/i18n.md): list the keys the code, templates and kv rules use
# (build/messages.pot), then check that both languages' .po hold every used key, non-empty.
I18N_KEYWORDS := -k t -k translate:2 -k text:2 -k _problem_text -k CellProblem -k MenuItem -k Refused:2 -k tr -k _say -k words_of -k _page:3 -k _liff_page:4 -k _button
i18n-extract: bootstrap
	.venv/bin/pybabel extract -F babel.cfg $(I18N_KEYWORDS) --no-location --omit-header -o build/messages.pot .

i18n-check: bootstrap
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/hub/test_i18n_catalogue.py \
		tests/checkpoint_app/test_app_catalogue.py
