#!/usr/bin/env bash
# Install what the tests need, then lint, type-check and run the whole suite
# against real servers (started by the test fixtures). Extra args go to pytest.
. "$(dirname "$0")/venv.sh" test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
