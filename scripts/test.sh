#!/usr/bin/env bash
# Install what the tests need, then lint, type-check and run the whole suite
# against real servers (started by the test fixtures). Extra args go to pytest.
. "$(dirname "$0")/venv.sh" test
# The console's browser test drives Debian's chromium (Playwright cannot download browsers here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser tests" >&2
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser tests need /usr/bin/chromium (apt-get install chromium)" >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
