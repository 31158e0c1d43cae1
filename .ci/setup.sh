#!/usr/bin/env bash
# What the tests need beyond the .NET SDK, installed from the distribution's packages (run by `dotnet cake --target=Test`
# through its Setup task, so `.ci/run` and the README's test command get it). Quiet and quick when all is present.
# Without root or apt-get it says so and succeeds: tests needing a missing tool are then skipped with the reason.
set -uo pipefail

need=()
# The status page test loads the page in headless Chromium (Rocket.Tests/Host/StatusPageTests.cs).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The deploy/ balancer configs are checked with the balancers themselves (Rocket.Tests/Host/DeployTests.cs).
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: not installing ${need[*]} (needs root and apt-get); tests that need them will be skipped."
  exit 0
fi

echo "setup: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
# Other builds on the machine may hold the dpkg lock: wait for it instead of failing.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 -y -q "$@"; }
if ! apt_get install --no-install-recommends "${need[@]}" >/tmp/rocket-setup-apt.log 2>&1; then
  apt_get update >>/tmp/rocket-setup-apt.log 2>&1
  apt_get install --no-install-recommends "${need[@]}" >>/tmp/rocket-setup-apt.log 2>&1 \
    || echo "setup: apt-get could not install ${need[*]} (see /tmp/rocket-setup-apt.log); tests that need them will be skipped."
fi
exit 0
