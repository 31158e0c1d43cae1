#!/usr/bin/env bash
# Installs what Rocket.Benchmarks needs besides the .NET SDK: wrk (load generator), nginx-light
# (peer for the static/proxy runs) and haproxy (the balancer of the rolling-restart check).
# Idempotent: does nothing when all are there. Run as root.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have wrk || missing+=(wrk)
have nginx || missing+=(nginx-light)
have haproxy || missing+=(haproxy)
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: wrk, nginx and haproxy already installed"
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
# The same for haproxy: the rolling-restart check starts its own with a config on 127.0.0.1.
for service in nginx haproxy; do
  case " ${missing[*]} " in
    *" $service "*|*" $service-light "*)
      if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
      elif command -v service >/dev/null 2>&1; then
        service "$service" stop >/dev/null 2>&1 || true
      fi
      ;;
  esac
done

if have wrk && have nginx && have haproxy; then
  echo "setup: wrk, nginx and haproxy installed"
else
  echo "setup: wrk, nginx or haproxy still missing after apt-get install" >&2
  exit 1
fi
