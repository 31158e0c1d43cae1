#!/usr/bin/env bash
# Installs what Rocket.Benchmarks needs besides the .NET SDK: wrk (load generator) and nginx-light
# (peer for the static/proxy runs). Idempotent: does nothing when both are there. Run as root.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have wrk || missing+=(wrk)
have nginx || missing+=(nginx-light)
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: wrk and nginx already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: installing ${missing[*]} needs root: sudo bash $0" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once, and only when apt does not know the packages yet.
if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq
fi
apt-get install -y "${missing[@]}"

# The benchmarks start nginx themselves with their own config on 127.0.0.1; the distribution's service
# (port 80 on all interfaces) is not wanted. Stop and disable it if the install just started it.
if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service nginx stop >/dev/null 2>&1 || true
  fi
fi

if have wrk && have nginx; then
  echo "setup: wrk and nginx installed"
else
  echo "setup: wrk or nginx still missing after apt-get install" >&2
  exit 1
fi
