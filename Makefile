# The two commands of the README: `make dev` (install + run everything on embedded defaults)
# and `make test` (install + lint + type check + tests). Everything else supports them.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen

.PHONY: install dev test lint fmt typecheck pytest bench services browser node

$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"

install: $(UV) node_modules/.package-lock.json
	$(UV) sync --frozen

# The browser assets the dashboard serves itself (Swagger UI for /api/docs), from npm, exactly as
# package-lock.json says (npm ci; no install scripts, see .npmrc). Re-run when the lock changes.
node_modules/.package-lock.json: package.json package-lock.json | node
	npm ci
	@touch $@

# Node and npm come from Debian's packages when missing (any Node >= 18 will do).
node:
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null)

dev: install
	$(RUN) tgadmin dev

# Headless Chromium for page tests comes from Debian's packages (never a downloaded browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# PostgreSQL and Redis are expected on 127.0.0.1; start the local ones if they are not answering.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "PostgreSQL or Redis did not start" >&2; exit 1

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck:
	$(RUN) mypy tgadmin tests bench

fmt:
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

pytest:
	$(RUN) pytest

test: install browser services lint typecheck pytest

bench: install services
	@for script in bench/*.py; do grep -q "^if __name__ == \"__main__\":" $$script || continue; echo "== $$script"; $(RUN) python $$script || exit 1; done
