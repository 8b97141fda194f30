#!/usr/bin/env bash
# scripts/deps.sh - install what is missing (`make deps`); quick when all is present.
# Debian packages with apt-get (sudo only when not root), npm packages from the lock
# files with `npm ci`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

APT_PKGS=(
    build-essential pkg-config clang libclang-rt-14-dev
    libfcgi-dev libhiredis-dev libjson-c-dev libwebsockets-dev libwebsockets-evlib-uv
    libsodium-dev libuv1-dev libcmocka-dev
    libsqlite3-dev sqlite3 libpq-dev postgresql libmagic-dev libvips-dev libvips-tools
    lighttpd lighttpd-mod-openssl lighttpd-modules-lua openssl redis-server redis-tools prometheus
    curl jq python3 iproute2 chromium
    fonts-noto-cjk
)
# Node.js may come from Debian (nodejs + npm) or another apt source that bundles npm.
command -v node >/dev/null && command -v npm >/dev/null || APT_PKGS+=(nodejs npm)
# Optional extras for `make bench` only.
if [ "${DEPS_BENCH:-0}" = 1 ]; then APT_PKGS+=(wrk rabbitmq-server linux-perf); fi

missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=
    [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm: install from each lock file when node_modules is missing or older than it.
for dir in tests www; do
    [ -f "$dir/package-lock.json" ] || continue
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        echo "deps: npm ci in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
done
