#!/usr/bin/env bash
# Builds the local base image the tests deploy on: appliance-test/bookworm:latest
# (Debian bookworm minbase + python3), without any registry: debootstrap from
# the Debian mirror, then `docker import`. The root filesystem tarball is kept
# in /var/cache/appliance-test so a removed image is re-imported in seconds.
#
# Environment: APPLIANCE_TEST_MIRROR (default http://deb.debian.org/debian),
#              APPLIANCE_TEST_CACHE  (default /var/cache/appliance-test).
set -euo pipefail

IMAGE=appliance-test/bookworm:latest
SUITE=bookworm
MIRROR=${APPLIANCE_TEST_MIRROR:-http://deb.debian.org/debian}
CACHE_DIR=${APPLIANCE_TEST_CACHE:-/var/cache/appliance-test}
TARBALL=$CACHE_DIR/$SUITE.tar

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

start=$SECONDS

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE: cached"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "build-base-image.sh: run as root" >&2; exit 1; }

WORK=""
cleanup() {
  [ -n "$WORK" ] && [ -d "$WORK" ] || return 0
  # debootstrap mounts proc/sys/dev inside the target; if it died half-way,
  # unmount those (deepest first) before deleting anything.
  local mnt
  awk -v dir="$WORK/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

if [ -s "$TARBALL" ]; then
  echo "base image $IMAGE: importing cached $TARBALL"
else
  command -v debootstrap >/dev/null || { echo "build-base-image.sh: debootstrap is not installed" >&2; exit 1; }
  mkdir -p "$CACHE_DIR"
  WORK=$(mktemp -d /var/tmp/appliance-bookworm.XXXXXX)
  echo "base image $IMAGE: debootstrap $SUITE from $MIRROR (a few minutes, once)"
  if ! debootstrap --variant=minbase --include=python3,ca-certificates \
    "$SUITE" "$WORK/root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 30 "$WORK/debootstrap.log" >&2
    [ -f "$WORK/root/debootstrap/debootstrap.log" ] && tail -n 30 "$WORK/root/debootstrap/debootstrap.log" >&2
    echo "build-base-image.sh: debootstrap failed" >&2
    exit 1
  fi
  # Trim what a test image never needs.
  rm -rf "$WORK/root/var/cache/apt/archives/"*.deb "$WORK/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$WORK/root" -cf "$TARBALL.part" .
  mv -f "$TARBALL.part" "$TARBALL"
  echo "base image $IMAGE: root filesystem cached at $TARBALL ($(du -h "$TARBALL" | cut -f1))"
fi

docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$IMAGE" <"$TARBALL" >/dev/null
echo "base image $IMAGE: built in $((SECONDS - start)) s"
