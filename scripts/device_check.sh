#!/usr/bin/env bash
# The GPU checks of the torch backend as one prepared run on a lent accelerator (the session's `device`
# tool: an H200 machine with Python 3.12, PyTorch, numba and numpy already there, and no network).
#
#   scripts/device_check.sh prepare    here: into .device/ (git-ignored), the wheels recworld needs
#                                      that the machine lacks (for Python 3.12) and the MovieLens-100K
#                                      cache with its fitted world, so that nothing is fetched there
#   scripts/device_check.sh run        there, as run(command="bash scripts/device_check.sh run",
#                                      carry=[".device"], timeout_s=560): installs the wheels into
#                                      /tmp/site and writes into $OUT (or results/device/):
#                                        versions.txt      the machine, its GPU and the packages used
#                                        torch_speed.json  recworld bench speed --sections torch --device cuda
#                                        ppo.log           examples/train_torch_ppo.py at 1M users
#
# Each part runs under its own time limit (TORCH_SPEED_S, PPO_S seconds), so that what finished comes
# back even when a later part runs long. The machine's own numba is used (llvmlite's wheel alone is
# larger than what a call may carry); versions.txt names it. A dry run here, on the CPU:
#   PYTHON_VERSION=3.11 scripts/device_check.sh prepare
#   PATH=.venv/bin:$PATH DEVICE=cpu NUM_ENVS=256 OUT=/tmp/device-dry-run scripts/device_check.sh run
set -uo pipefail
cd "$(dirname "$0")/.."
here=.device

case "${1:-}" in
  prepare)
    python=${PYTHON:-.venv/bin/python}
    version() { "$python" -c "import importlib.metadata as m; print(m.version('$1'))"; }
    rm -rf "$here" && mkdir -p "$here/wheels" "$here/data/simulators"
    "$python" -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
      --python-version "${PYTHON_VERSION:-3.12}" --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      -d "$here/wheels" \
      "gymnasium==$(version gymnasium)" "farama-notifications==$(version farama-notifications)" \
      "pydantic==$(version pydantic)" "pydantic-core==$(version pydantic-core)" \
      "annotated-types==$(version annotated-types)" "typing-inspection==$(version typing-inspection)" \
      || { echo "device_check: downloading the wheels failed" >&2; exit 1; }
    cache=${RECWORLD_DATA_DIR:-$HOME/.cache/recworld}
    [ -d "$cache/movielens-100k" ] || { echo "device_check: no $cache/movielens-100k; run ./quickstart.sh main first" >&2; exit 1; }
    cp -r "$cache/movielens-100k" "$here/data/"
    cp -r "$cache"/simulators/movielens-100k-latent-factor-seed0-* "$here/data/simulators/" 2>/dev/null \
      || echo "device_check: no fitted MovieLens-100K world in $cache/simulators: it is fitted there" >&2
    du -sh "$here"
    echo "now: run(command=\"bash scripts/device_check.sh run\", carry=[\"$here\"], timeout_s=560)"
    ;;
  run)
    out=${OUT:-results/device}
    mkdir -p "$out"
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site "$here"/wheels/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD RECWORLD_DATA_DIR=$PWD/$here/data NUMBA_CACHE_DIR=/tmp/numba-cache
    export PYTHONUNBUFFERED=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True  # (less fragmentation at 8M users)
    {
      date -u; uname -a; nproc; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
      python3 -c "import sys, numpy, numba, torch, gymnasium; print(sys.version); print('numpy', numpy.__version__, 'numba', numba.__version__, 'torch', torch.__version__, 'gymnasium', gymnasium.__version__)"
      git log -1 --format='recworld commit %h %s' 2>/dev/null || true
    } >"$out/versions.txt" 2>&1
    cat "$out/versions.txt"
    device=${DEVICE:-cuda}
    timeout "${TORCH_SPEED_S:-300}" python3 -m recworld.cli bench speed --sections torch --device "$device" --json \
      >"$out/torch_speed.json" 2>"$out/torch_speed.err"
    echo "bench speed --sections torch: exit $?"; tail -n 5 "$out/torch_speed.err"
    timeout "${PPO_S:-180}" python3 examples/train_torch_ppo.py --device "$device" --num-envs "${NUM_ENVS:-1000000}" \
      --iterations 5 \
      >"$out/ppo.log" 2>&1
    echo "train_torch_ppo: exit $?"; tail -n 8 "$out/ppo.log"
    ;;
  *)
    echo "usage: scripts/device_check.sh prepare|run" >&2; exit 2 ;;
esac
