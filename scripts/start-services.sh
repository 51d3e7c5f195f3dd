#!/usr/bin/env bash
# Starts whatever of docker, nginx and sshd isn't running (systemd or not).
# The logic lives in install.sh, which must stay self-contained for curl | bash.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../install.sh" --start-only
