#!/usr/bin/env bash
# Install the Debian packages behind the local real services, only if missing:
# clickhouse-server (analytics store), prometheus (for promtool) and
# prometheus-alertmanager. Idempotent; runs as root with no stdin (CI), or
# through sudo when it is available.
set -euo pipefail

packages=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
# clickhouse-client is only recommended, and worth having for a look at the data.
have clickhouse-server || packages+=(clickhouse-server clickhouse-client)
have promtool || packages+=(prometheus)
have prometheus-alertmanager || packages+=(prometheus-alertmanager)
# parses and checks the production compose file (no engine needed)
have docker-compose || packages+=(docker-compose)

if [ "${#packages[@]}" -eq 0 ]; then
    echo "install-services: clickhouse-server, promtool, alertmanager, docker-compose already installed"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-services: need root (or sudo) to install: ${packages[*]}" >&2
        exit 1
    }
    sudo=(sudo -n)
fi

# The packages' postinst scripts start their daemons on the default ports via
# invoke-rc.d, which fails or hangs in a container without an init system. A
# policy-rc.d that answers 101 ("action forbidden") makes invoke-rc.d skip it;
# the project starts its own instances on loopback and free ports instead.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

echo "install-services: installing ${packages[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${packages[@]}" </dev/null
