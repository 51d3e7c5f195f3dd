#!/usr/bin/env bash
# Builds the local base images the tests deploy on, without any registry:
#
#   appliance-test/bookworm:latest  Debian bookworm minbase + python3: debootstrap
#                                   from the Debian mirror, then `docker import`. The
#                                   root filesystem tarball is kept in
#                                   /var/cache/appliance-test so a removed image is
#                                   re-imported in seconds.
#   appliance-test/python:latest    + python3-pip python3-venv  } FROM bookworm, apt over
#   appliance-test/node:latest      + nodejs npm                } the plain-http mirror;
#   appliance-test/go:latest        + golang-go                 } builder-auto's e2e tests
#                                                                 use them as base images
# Each image is skipped when present. The three language images build in parallel
# in about a minute (66 s measured, most of it node's npm), after the bookworm image.
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

# The language images for builder-auto's tests: name, then Debian packages.
LANGUAGE_IMAGES=(
  "appliance-test/python:latest python3 python3-pip python3-venv ca-certificates"
  "appliance-test/node:latest nodejs npm ca-certificates"
  "appliance-test/go:latest golang-go ca-certificates"
)

# Builds one language image FROM the base image (no context: the Dockerfile comes on
# stdin). apt reaches the mirror over plain http, so no CA is needed.
build_language_image() {
  local image=$1
  shift
  local started=$SECONDS log
  log=$(mktemp /tmp/appliance-image.XXXXXX)
  if ! docker build --pull=false -t "$image" - >"$log" 2>&1 <<DOCKERFILE
FROM $IMAGE
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $* >/dev/null \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
DOCKERFILE
  then
    tail -n 30 "$log" >&2
    echo "build-base-image.sh: building $image failed (log: $log)" >&2
    return 1
  fi
  rm -f "$log"
  echo "base image $image: built in $((SECONDS - started)) s"
}

build_language_images() {
  local entry pids=() failed=0 pid
  for entry in "${LANGUAGE_IMAGES[@]}"; do
    # shellcheck disable=SC2086
    set -- $entry
    if docker image inspect "$1" >/dev/null 2>&1; then
      echo "base image $1: cached"
      continue
    fi
    echo "base image $1: building (apt-get install ${*:2})"
    build_language_image "$@" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  return "$failed"
}

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE: cached"
  build_language_images
  exit $?
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
build_language_images
