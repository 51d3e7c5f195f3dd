#!/usr/bin/env bash
# The test command: ./scripts/test.sh [PYTEST ARGS...]
#
# Run as root on a Debian 12 host (a fresh one is fine): installs what is
# missing, starts docker/nginx/sshd, builds the local base image, sets up a
# test virtualenv, then runs ruff and pytest (unit + e2e). Re-runs are fast:
# apt is skipped when everything is present and the image and venv are reused.
#
# Environment: APPLIANCE_TEST_VENV (default /var/cache/appliance-test/venv).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=${APPLIANCE_TEST_VENV:-/var/cache/appliance-test/venv}

export DEBIAN_FRONTEND=noninteractive
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

T0=$SECONDS
STEP_START=$SECONDS
step() {
  STEP_START=$SECONDS
  printf -- '-----> %s\n' "$*"
}
done_step() { printf -- '       (%d s)\n' "$((SECONDS - STEP_START))"; }
die() { printf -- ' !     %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "scripts/test.sh must run as root (it installs packages and starts services)"

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

step "Installing test prerequisites"
pkgs=(nginx openssh-server openssh-client git debootstrap python3-venv sudo curl ca-certificates procps)
if ! command -v dockerd >/dev/null 2>&1; then
  pkgs+=(docker.io)
fi
missing=()
for pkg in "${pkgs[@]}"; do
  pkg_installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  printf '       installing: %s\n' "${missing[*]}"
  log=$(mktemp /tmp/appliance-apt.XXXXXX)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"; } </dev/null >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "apt-get failed (log: $log)"
  fi
  rm -f "$log"
else
  echo "       all present"
fi
done_step

STEP_START=$SECONDS # install.sh announces its own step
bash "$ROOT/install.sh" --start-only
done_step

step "Building base image"
bash "$ROOT/scripts/build-base-image.sh"
done_step

step "Preparing test virtualenv $VENV"
if ! { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }; then
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  /usr/bin/python3 -m venv "$VENV"
fi
# Editable install: code changes need no reinstall, only pyproject.toml changes
# do, so skip pip when pyproject.toml is unchanged since the last install here.
stamp="$VENV/.appliance-test-stamp"
want="$ROOT $(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && [ -x "$VENV/bin/pytest" ] && [ -x "$VENV/bin/ruff" ]; then
  echo "       up to date"
else
  if "$VENV/bin/python" - <<'EOF'
import sys, tomllib
with open("pyproject.toml", "rb") as f:
    extras = tomllib.load(f).get("project", {}).get("optional-dependencies", {})
sys.exit(0 if "test" in extras else 1)
EOF
  then
    reqs=(-e '.[test]')
  else
    reqs=(-e . pytest ruff)
  fi
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${reqs[@]}" </dev/null
  printf '%s\n' "$want" >"$stamp"
fi
done_step

step "ruff check"
"$VENV/bin/ruff" check .
done_step

step "pytest"
rc=0
"$VENV/bin/python" -m pytest -q tests/unit tests/e2e "$@" </dev/null || rc=$?
done_step
if [ "$rc" -eq 5 ]; then
  echo " !     pytest collected no tests: failing" >&2
  rc=1
fi
printf -- '-----> Done in %d s (pytest exit code %d)\n' "$((SECONDS - T0))" "$rc"
exit "$rc"
