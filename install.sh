#!/usr/bin/env bash
# Install (or upgrade in place) appliance on a Debian/Ubuntu host.
#
#   curl -fsSL URL | sudo bash -s -- --domain example.com --key "ssh-ed25519 AAAA..."
#   sudo ./install.sh --domain example.com --key-file ~/.ssh/id_ed25519.pub
#
# Safe to re-run: every step checks what is already there, and app state under
# /var/lib/appliance and the appliance user's SSH keys are never removed.
#
# Everything lives in functions and `main "$@"` is the very last line, so that
# under `curl | bash` the whole script is read before anything runs (commands
# reading stdin would otherwise swallow the rest of the script).
set -euo pipefail
umask 022

APPLIANCE_USER=appliance
APPLIANCE_HOME=/home/appliance
STATE_DIR=/var/lib/appliance
NGINX_INCLUDE_DIR=$STATE_DIR/nginx
VENV_DIR=/opt/appliance/venv
BIN_LINK=/usr/local/bin/appliance
NGINX_CONF=/etc/nginx/conf.d/appliance.conf
SUDOERS_FILE=/etc/sudoers.d/appliance
RELOAD_HELPER=/usr/local/lib/appliance/nginx-reload
LIMITS_HELPER=/usr/local/lib/appliance/build-limits
STORAGE_HELPER=/usr/local/lib/appliance/storage-directory
DEFAULT_SOURCE=git+https://github.com/appliance-paas/appliance.git
DOCKERD_LOG=/var/log/dockerd.log
DAEMON_PIDFILE=/run/appliance/daemon.pid
DAEMON_LOG=/var/log/appliance/daemon.log
DAEMON_UNIT=/etc/systemd/system/appliance-daemon.service

export DEBIAN_FRONTEND=noninteractive
export GIT_TERMINAL_PROMPT=0 # pip's git clone must never wait for a password
# sudo's secure_path has these, `su -c` or a bare `bash` may not.
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

DOMAIN=""
KEY=""
KEY_FILE=""
SOURCE=""
NO_START=0
START_ONLY=0

usage() {
  cat <<'EOF'
Usage: install.sh [options]

Installs or upgrades appliance on this host (run as root).

Options:
  --domain DOMAIN    global domain; apps are served as APP.DOMAIN
                     (default on first install: `hostname -f`)
  --key "PUBKEY"     SSH public key allowed to push, stored as "admin"
  --key-file PATH    same, read from a file (first key line)
  --source SPEC      what to pip-install (local directory, git+https URL, or
                     requirement); default: the checkout containing this
                     script, else $APPLIANCE_SOURCE, else the GitHub repository
  --no-start         do not start docker, nginx and sshd
  --start-only       only start docker, nginx, sshd and the appliance daemon
                     (whatever isn't running)
  -h, --help         show this help
EOF
}

step() { printf -- '-----> %s\n' "$*"; }
info() { printf -- '       %s\n' "$*"; }
die() { printf -- ' !     %s\n' "$*" >&2; exit 1; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --domain) [ $# -ge 2 ] || die "--domain needs a value"; DOMAIN=$2; shift 2 ;;
      --domain=*) DOMAIN=${1#*=}; shift ;;
      --key) [ $# -ge 2 ] || die "--key needs a value"; KEY=$2; shift 2 ;;
      --key=*) KEY=${1#*=}; shift ;;
      --key-file) [ $# -ge 2 ] || die "--key-file needs a value"; KEY_FILE=$2; shift 2 ;;
      --key-file=*) KEY_FILE=${1#*=}; shift ;;
      --source) [ $# -ge 2 ] || die "--source needs a value"; SOURCE=$2; shift 2 ;;
      --source=*) SOURCE=${1#*=}; shift ;;
      --no-start) NO_START=1; shift ;;
      --start-only) START_ONLY=1; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown option: $1" ;;
    esac
  done
  if [ -n "$KEY" ] && [ -n "$KEY_FILE" ]; then
    die "give either --key or --key-file, not both"
  fi
  if [ -n "$DOMAIN" ] && ! [[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    die "not a valid domain: $DOMAIN"
  fi
}

# Directory holding this script, when it is a real file (not `curl | bash`).
script_dir() {
  local src=${BASH_SOURCE[0]:-}
  if [ -n "$src" ] && [ -f "$src" ]; then
    (cd "$(dirname "$src")" && pwd -P)
  fi
}

resolve_source() {
  [ -n "$SOURCE" ] && return 0
  local dir
  dir=$(script_dir)
  if [ -n "$dir" ] && [ -f "$dir/pyproject.toml" ]; then
    SOURCE=$dir
  elif [ -n "${APPLIANCE_SOURCE:-}" ]; then
    SOURCE=$APPLIANCE_SOURCE
  else
    SOURCE=$DEFAULT_SOURCE
  fi
}

# Reads --key / --key-file into KEY (one line) and checks it with ssh-keygen.
resolve_key() {
  if [ -n "$KEY_FILE" ]; then
    [ -r "$KEY_FILE" ] || die "cannot read key file: $KEY_FILE"
    KEY=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$KEY_FILE" | head -n 1 || true)
    [ -n "$KEY" ] || die "no key found in $KEY_FILE"
  fi
  [ -n "$KEY" ] || return 0
  KEY=$(printf '%s' "$KEY" | tr -d '\r' | head -n 1)
  # Fail before installing anything when we can; otherwise validate_key runs
  # again once openssh is installed.
  if command -v ssh-keygen >/dev/null 2>&1; then
    validate_key
  fi
}

validate_key() {
  [ -n "$KEY" ] || return 0
  if ! printf '%s\n' "$KEY" | ssh-keygen -l -f /dev/stdin >/dev/null 2>&1; then
    die "not a valid SSH public key: $KEY"
  fi
}

check_system() {
  [ "$(id -u)" -eq 0 ] || die "run as root (e.g. with sudo)"
  [ -r /etc/os-release ] || die "cannot read /etc/os-release: unsupported system"
  local id id_like
  # shellcheck disable=SC1091
  id=$(. /etc/os-release && printf '%s' "${ID:-}")
  # shellcheck disable=SC1091
  id_like=$(. /etc/os-release && printf '%s' "${ID_LIKE:-}")
  case " $id $id_like " in
    *" debian "*|*" ubuntu "*) ;;
    *) die "unsupported system '$id': Debian or Ubuntu required" ;;
  esac
}

# --- packages ---------------------------------------------------------------

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

have_dockerd() {
  command -v dockerd >/dev/null 2>&1 || [ -x /usr/bin/dockerd ] || [ -x /usr/sbin/dockerd ]
}

# apt_install_missing PKG...: installs those not yet installed; no apt at all
# when everything is present.
apt_install_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    pkg_installed "$pkg" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    info "all present"
    return 0
  fi
  info "installing: ${missing[*]}"
  local log
  log=$(mktemp /tmp/appliance-apt.XXXXXX)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}"; } </dev/null >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "apt-get failed (log: $log)"
  fi
  rm -f "$log"
}

install_packages() {
  step "Installing packages"
  local pkgs=(nginx git openssh-server python3-venv sudo ca-certificates procps)
  if have_dockerd; then
    info "docker engine present: $(command -v dockerd || echo dockerd)"
  else
    pkgs+=(docker.io)
  fi
  apt_install_missing "${pkgs[@]}"
}

# --- user and directories ---------------------------------------------------

setup_user() {
  step "Setting up user $APPLIANCE_USER"
  getent group docker >/dev/null || groupadd --system docker
  if ! id -u "$APPLIANCE_USER" >/dev/null 2>&1; then
    local group_opt=(--user-group)
    if getent group "$APPLIANCE_USER" >/dev/null; then
      group_opt=(--gid "$APPLIANCE_USER")
    fi
    useradd --system --create-home --home-dir "$APPLIANCE_HOME" \
      --shell /bin/bash "${group_opt[@]}" "$APPLIANCE_USER"
    info "created user $APPLIANCE_USER"
  fi
  # "*": no password login, but not locked ("!"), so sshd accepts pubkeys
  # whatever UsePAM says.
  usermod --password '*' --shell /bin/bash "$APPLIANCE_USER"
  usermod --append --groups docker "$APPLIANCE_USER"
  # adm: nginx's rotated logs are www-data:adm 0640 (nginx:access-logs reads them)
  if getent group adm >/dev/null; then
    usermod --append --groups adm "$APPLIANCE_USER"
  fi
  local group
  group=$(id -gn "$APPLIANCE_USER")
  if [ ! -d "$APPLIANCE_HOME" ]; then
    install -d -m 755 -o "$APPLIANCE_USER" -g "$group" "$APPLIANCE_HOME"
  fi
  install -d -m 700 -o "$APPLIANCE_USER" -g "$group" "$APPLIANCE_HOME/.ssh"
}

setup_state_dirs() {
  step "Setting up $STATE_DIR"
  # Not recursive: existing app state keeps its ownership and modes.
  install -d -m 755 -o "$APPLIANCE_USER" -g "$(id -gn "$APPLIANCE_USER")" \
    "$STATE_DIR" "$NGINX_INCLUDE_DIR"
}

# --- python package -----------------------------------------------------------

install_appliance() {
  step "Installing appliance from $SOURCE"
  local python=/usr/bin/python3
  [ -x "$python" ] || python=$(command -v python3) || die "python3 not found"

  # Each install gets a fresh virtualenv under venvs/, and $VENV_DIR is a symlink
  # switched to it atomically once it is complete: a deploy or command running
  # during an upgrade keeps the code it started with and never sees a half-installed
  # package. The two previous virtualenvs are kept for processes still using them.
  local venvs new
  venvs=$(dirname "$VENV_DIR")/venvs
  mkdir -p "$venvs"
  new=$venvs/$(date +%Y%m%d%H%M%S)-$$
  "$python" -m venv "$new"

  local work spec
  work=$(mktemp -d /tmp/appliance-install.XXXXXX)
  # shellcheck disable=SC2064  # expand $work and $new now
  trap "rm -rf '$work' '$new'" EXIT
  spec=$SOURCE
  if [ -d "$SOURCE" ]; then
    # Build from a clean copy so the checkout gets no build/ or *.egg-info.
    mkdir "$work/src"
    tar -C "$SOURCE" --exclude=./.git --exclude=./build --exclude='*.egg-info' \
      --exclude=__pycache__ --exclude=.venv --exclude=.pytest_cache --exclude=.ruff_cache \
      -cf - . | tar -C "$work/src" -xf -
    spec=$work/src
  fi
  local pip=("$new/bin/python" -m pip --disable-pip-version-check -q)
  "${pip[@]}" wheel --no-deps --wheel-dir "$work/wheels" "$spec" </dev/null
  local wheels=("$work"/wheels/*.whl)
  [ -f "${wheels[0]}" ] || die "pip built no wheel from $SOURCE"
  "${pip[@]}" install "${wheels[@]}" </dev/null
  [ -x "$new/bin/appliance" ] || die "$new/bin/appliance missing after install"
  "$new/bin/appliance" version >/dev/null || die "the new install does not run"
  rm -rf "$work"
  trap - EXIT

  if [ -d "$VENV_DIR" ] && [ ! -L "$VENV_DIR" ]; then
    # An install from before venvs/: move it aside (same filesystem: atomic).
    mv "$VENV_DIR" "$venvs/00-previous-$$"
  fi
  ln -sfn "$new" "$VENV_DIR.new.$$"
  mv -T "$VENV_DIR.new.$$" "$VENV_DIR"
  info "$VENV_DIR -> $new"
  local old
  # shellcheck disable=SC2012  # names are ours: digits, dashes
  for old in $(ls -1 "$venvs" | sort | head -n -3); do
    rm -rf "${venvs:?}/$old"
  done

  ln -sfn "$VENV_DIR/bin/appliance" "$BIN_LINK"
  info "$BIN_LINK -> $VENV_DIR/bin/appliance"
}

# --- nginx and sudo -----------------------------------------------------------

# write_if_changed DEST MODE: stdin to DEST (atomically) unless identical.
write_if_changed() {
  local dest=$1 mode=$2 tmp
  tmp=$(mktemp "$dest.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
    rm -f "$tmp"
    return 1
  fi
  mv -f "$tmp" "$dest"
}

setup_nginx() {
  step "Configuring nginx"
  mkdir -p "$(dirname "$NGINX_CONF")"
  if write_if_changed "$NGINX_CONF" 644 <<EOF
# Managed by appliance install.sh; overwritten on upgrade.
server_names_hash_bucket_size 128;
include $NGINX_INCLUDE_DIR/*.conf;
EOF
  then
    info "wrote $NGINX_CONF"
  fi
  nginx -t -q || die "nginx -t failed (see above)"
}

# install_root_helper NAME DEST WHAT: one of the small root helpers shipped in
# templates/system, installed root-owned where the sudoers rules name it.
install_root_helper() {
  local name=$1 dest=$2 what=$3 source
  step "Installing the $name helper"
  source=$("$VENV_DIR/bin/python" -c 'import sys; from appliance import templates; print(templates.templates_dir() / "system" / sys.argv[1])' "$name")
  [ -f "$source" ] || die "$name is missing from the installed package"
  install -d -m 755 -o root -g root "$(dirname "$dest")"
  install -m 755 -o root -g root "$source" "$dest"
  info "installed $dest ($what)"
}

install_root_helpers() {
  install_root_helper nginx-reload "$RELOAD_HELPER" "test, reload, retire old workers at once"
  install_root_helper build-limits "$LIMITS_HELPER" \
    "memory, CPU and IO limits of BuildKit's build steps"
  install_root_helper storage-directory "$STORAGE_HELPER" \
    "storage:ensure-directory, inside the storage base only"
}

setup_sudoers() {
  step "Configuring sudo"
  local tmp
  tmp=$(mktemp /tmp/appliance-sudoers.XXXXXX)
  cat >"$tmp" <<EOF
# Managed by appliance install.sh: the appliance user may test and reload nginx,
# and set the build limits (the helper accepts one argument, like 700m or none).
$APPLIANCE_USER ALL=(root) NOPASSWD: /usr/sbin/nginx -t, /usr/sbin/nginx -s reload, /usr/sbin/nginx -t -q, $RELOAD_HELPER ""
$APPLIANCE_USER ALL=(root) NOPASSWD: $LIMITS_HELPER *
$APPLIANCE_USER ALL=(root) NOPASSWD: $STORAGE_HELPER *
EOF
  if ! visudo -cf "$tmp" >/dev/null; then
    rm -f "$tmp"
    die "generated sudoers file is invalid"
  fi
  mkdir -p "$(dirname "$SUDOERS_FILE")"
  if [ -f "$SUDOERS_FILE" ] && cmp -s "$tmp" "$SUDOERS_FILE"; then
    rm -f "$tmp"
  else
    install -m 440 -o root -g root "$tmp" "$SUDOERS_FILE"
    rm -f "$tmp"
    info "wrote $SUDOERS_FILE"
  fi
}

# --- services -----------------------------------------------------------------

pid_alive() { # pid_alive PIDFILE
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# wait_for_docker [local]: up to 30 s for `docker info`; with "local", gives
# up as soon as no dockerd process is left (it failed to start).
wait_for_docker() {
  local i
  for i in $(seq 1 30); do
    docker info >/dev/null 2>&1 && return 0
    [ "$i" -eq 30 ] && break
    sleep 1
    if [ "${1:-}" = local ] && ! pgrep -x dockerd >/dev/null; then
      return 1
    fi
  done
  return 1
}

start_docker() {
  if docker info >/dev/null 2>&1; then
    info "docker: running"
    return 0
  fi
  if pgrep -x dockerd >/dev/null; then
    info "docker: dockerd running, waiting for it"
  else
    info "docker: starting dockerd (log: $DOCKERD_LOG)"
    setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  wait_for_docker local || {
    tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
    die "docker did not come up (log: $DOCKERD_LOG)"
  }
  info "docker: up"
}

start_nginx() {
  # The pid file, not pgrep: other nginx instances (tests) may be running, and
  # `nginx -s reload` signals the pid in this file anyway.
  if pid_alive /run/nginx.pid; then
    local out
    # nginx prints a "signal process started" notice even on success.
    out=$(nginx -s reload 2>&1) || { printf '%s\n' "$out" >&2; die "nginx -s reload failed"; }
    info "nginx: running, reloaded"
  else
    nginx
    info "nginx: started"
  fi
}

start_sshd() {
  if pid_alive /run/sshd.pid; then
    info "sshd: running"
    return 0
  fi
  mkdir -p /run/sshd
  chmod 755 /run/sshd
  ssh-keygen -A >/dev/null # host keys, only those missing
  /usr/sbin/sshd -t
  /usr/sbin/sshd
  info "sshd: started"
}

start_services() {
  step "Starting services"
  if [ -d /run/systemd/system ]; then
    systemctl enable --now docker nginx ssh
    systemctl reload nginx
    wait_for_docker || die "docker is not answering"
    info "docker, nginx, ssh enabled and running (systemd)"
  else
    start_docker
    start_nginx
    start_sshd
  fi
}

# --- the appliance daemon -------------------------------------------------------
# `appliance daemon` restores containers after a Docker restart, re-renders vhosts
# when templates change and runs cron. Nothing else depends on it. With systemd it is
# a unit; without, it is started detached here, and nothing restarts it after a
# reboot until `install.sh --start-only` (or a re-install) runs again.

# daemon_pid: prints the pid of the running daemon; fails if there is none (a pid
# file whose process is something else counts as none).
daemon_pid() {
  local pid
  [ -s "$DAEMON_PIDFILE" ] || return 1
  pid=$(cat "$DAEMON_PIDFILE" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
    grep -qF " daemon --pidfile $DAEMON_PIDFILE" || return 1
  printf '%s\n' "$pid"
}

stop_daemon() {
  local pid i
  pid=$(daemon_pid) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  info "daemon: pid $pid did not stop within 10 s, killed"
}

# start_daemon [restart]: starts the daemon unless it runs; with "restart", a
# running one is stopped first so the new code runs.
start_daemon() {
  [ -x "$BIN_LINK" ] && [ -d "$STATE_DIR" ] || return 0
  local group
  group=$(id -gn "$APPLIANCE_USER")
  install -d -m 755 -o "$APPLIANCE_USER" -g "$group" "$(dirname "$DAEMON_PIDFILE")" \
    "$(dirname "$DAEMON_LOG")"
  if [ -d /run/systemd/system ]; then
    local source
    source=$("$VENV_DIR/bin/python" -c 'from appliance import templates; print(templates.templates_dir() / "system" / "appliance-daemon.service")')
    if write_if_changed "$DAEMON_UNIT" 644 <"$source"; then
      systemctl daemon-reload
    fi
    systemctl enable --quiet appliance-daemon
    if [ "${1:-}" = restart ]; then
      systemctl restart appliance-daemon
    else
      systemctl start appliance-daemon
    fi
    info "appliance daemon: running (systemd unit appliance-daemon)"
    return 0
  fi
  local pid
  if pid=$(daemon_pid); then
    if [ "${1:-}" != restart ]; then
      info "appliance daemon: running (pid $pid)"
      return 0
    fi
    stop_daemon
  fi
  setsid "$BIN_LINK" daemon --pidfile "$DAEMON_PIDFILE" --log "$DAEMON_LOG" \
    </dev/null >/dev/null 2>&1 &
  local i
  for i in $(seq 1 100); do
    if pid=$(daemon_pid); then
      info "appliance daemon: started (pid $pid, log: $DAEMON_LOG)"
      return 0
    fi
    sleep 0.1
  done
  tail -n 5 "$DAEMON_LOG" >&2 2>/dev/null || true
  info "appliance daemon: did not start (log: $DAEMON_LOG); apps and commands work without it"
}

# --- appliance configuration --------------------------------------------------

configure_appliance() {
  step "Configuring appliance"
  if [ -n "$DOMAIN" ]; then
    appliance domains:set-global "$DOMAIN" </dev/null
    info "global domain: $DOMAIN"
  elif ! grep -qs domain "$STATE_DIR/settings.toml"; then
    DOMAIN=$(hostname -f 2>/dev/null || true)
    [ -n "$DOMAIN" ] || DOMAIN=$(hostname)
    if appliance domains:set-global "$DOMAIN" </dev/null; then
      info "global domain: $DOMAIN (from hostname -f; change with --domain)"
    else
      # A guessed default must not fail the whole install.
      info "could not use '$DOMAIN' as the global domain; set one with:"
      info "  sudo appliance domains:set-global example.com"
      DOMAIN=""
    fi
  fi

  if [ -n "$KEY" ]; then
    local body
    body=$(printf '%s\n' "$KEY" | awk '{ print $2 }')
    if [ -n "$body" ] && grep -qsF -- "$body" "$APPLIANCE_HOME/.ssh/authorized_keys"; then
      info "ssh key already authorized"
    elif printf '%s\n' "$KEY" | appliance ssh-keys:add admin --admin 2>/dev/null; then
      info "ssh key added as admin"
    else
      info "replacing the existing ssh key named admin"
      appliance ssh-keys:remove admin </dev/null
      printf '%s\n' "$KEY" | appliance ssh-keys:add admin --admin
    fi
  fi
}

domain_for_message() {
  if [ -n "$DOMAIN" ]; then
    printf '%s' "$DOMAIN"
    return 0
  fi
  { appliance domains:report --format json </dev/null 2>/dev/null || true; } |
    "$VENV_DIR/bin/python" -c '
import json, sys
try:
    print(json.load(sys.stdin).get("global") or "")
except Exception:
    pass
' 2>/dev/null || true
}

finish() {
  local version domain host
  version=$(appliance version </dev/null 2>/dev/null || echo unknown)
  version=${version#appliance }
  domain=$(domain_for_message)
  [ -n "$domain" ] || domain=DOMAIN
  host=$domain
  step "Installed: appliance $version"
  cat <<EOF

       Deploy your first app from its git checkout:

         git remote add appliance $APPLIANCE_USER@$host:hello
         git push appliance main

       It will be served at http://hello.$domain/
EOF
  if [ -z "$KEY" ] && [ ! -s "$APPLIANCE_HOME/.ssh/authorized_keys" ]; then
    cat <<EOF

       No SSH key is authorized yet. Add one with:
         echo "ssh-ed25519 AAAA..." | sudo appliance ssh-keys:add admin --admin
EOF
  fi
  if [ "$NO_START" -eq 1 ]; then
    printf '\n       Services were not started (--no-start).\n'
  fi
}

main() {
  parse_args "$@"
  check_system
  if [ "$START_ONLY" -eq 1 ]; then
    start_services
    start_daemon
    return 0
  fi
  resolve_source
  resolve_key
  install_packages
  validate_key
  setup_user
  setup_state_dirs
  install_appliance
  setup_nginx
  install_root_helpers
  setup_sudoers
  if [ "$NO_START" -eq 0 ]; then
    start_services
  fi
  configure_appliance
  if [ "$NO_START" -eq 0 ]; then
    start_daemon restart
  fi
  finish
}

main "$@"
