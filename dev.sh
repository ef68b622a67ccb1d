#!/usr/bin/env bash
# The two commands of the README:
#   ./dev.sh run [ARGS]    run Mattebox: the editor where a display exists, else a headless
#                          render of the bundled example script (ARGS go to `mattebox`)
#   ./dev.sh test [ARGS]   run the test suite (ARGS go to pytest)
# Each sets itself up first: Debian packages (as root), a virtual environment in .venv,
# and the project installed into it. Set-up steps are skipped when already done.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=${MATTEBOX_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

# Debian packages: Vulkan software adapter (lavapipe) for wgpu, the libraries Qt needs
# offscreen and under X11, and Xvfb for screenshots on machines without a display.
APT_PACKAGES="mesa-vulkan-drivers libvulkan1 libgl1 libegl1 libglib2.0-0 libfontconfig1
  libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xfixes0
  xvfb xauth"

need_apt() {
  local missing=()
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "dev.sh: missing Debian packages (run as root or install them): ${missing[*]}" >&2
      return 0
    fi
    echo "dev.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
  fi
}

need_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "dev.sh: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.mattebox-installed" want
  want=$(sha1sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "dev.sh: installing Python packages into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e ".[test,bench]"
    echo "$want" >"$stamp"
  fi
}

cmd=${1:-run}
shift || true
need_apt
need_venv
export PATH="$VENV/bin:$PATH"
case "$cmd" in
  run)
    if [ $# -gt 0 ]; then
      exec mattebox "$@"
    fi
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      exec mattebox resources/examples/comp.mbx
    fi
    echo "dev.sh: no display: rendering the example script headless" >&2
    exec mattebox render resources/examples/comp.mbx
    ;;
  test)
    exec python -m pytest -q "$@"
    ;;
  *)
    echo "usage: ./dev.sh run [ARGS] | ./dev.sh test [PYTEST ARGS]" >&2
    exit 2
    ;;
esac
