#!/usr/bin/env bash
# The two Quickstart commands of the README:
#   ./quickstart.sh main   set up .venv, fetch the data (MovieLens-100K and -1M, Open Bandit Dataset), run the main job
#   ./quickstart.sh test   set up .venv, fetch the data, run the linters and the tests
# Set-up is idempotent: .venv is created once and reinstalled only when setup.cfg changes.
set -euo pipefail
cd "$(dirname "$0")"

job=${1:-}
case "$job" in
  main) extras="" ;;
  test) extras="dev,sb3,text,ray,rllib" ;;
  *) echo "usage: ./quickstart.sh main|test" >&2; exit 2 ;;
esac

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "quickstart: no python3 found; install Python 3.10 or newer" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "quickstart: $python is older than 3.10; set PYTHON=/path/to/python3.11" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "quickstart: creating .venv with $python" >&2
  "$python" -m venv .venv
fi
stamp=".venv/.recworld-installed-$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)-$extras"
if [ ! -f "$stamp" ]; then
  echo "quickstart: installing torch (CPU build, pinned first) and recworld${extras:+[$extras]}" >&2
  log=.venv/recworld-install.log
  { .venv/bin/python -m pip install --disable-pip-version-check "torch==2.13.0" \
    && .venv/bin/python -m pip install --disable-pip-version-check -e ".${extras:+[$extras]}"; } >"$log" 2>&1 \
    || { tail -n 40 "$log" >&2; echo "quickstart: installation failed; full log in $log" >&2; exit 1; }
  rm -f .venv/.recworld-installed-*
  touch "$stamp"
fi

.venv/bin/recworld data fetch movielens-100k >/dev/null
.venv/bin/recworld data fetch obd >/dev/null
.venv/bin/recworld data fetch movielens-1m >/dev/null

case "$job" in
  main)
    # The quick benchmark suite (minutes); rerunning resumes and keeps the finished cells.
    status=0
    .venv/bin/recworld bench run --suite quick --out results/quick --resume || status=$?
    [ -f results/quick/report.md ] && cat results/quick/report.md
    exit "$status"
    ;;
  test)
    .venv/bin/ruff check recworld tests scripts
    .venv/bin/mypy
    .venv/bin/python -m pytest -q "${@:2}"
    ;;
esac
