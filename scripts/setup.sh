#!/usr/bin/env bash
# Set up a fresh checkout: npm packages (with native builds) and the TypeScript build.
# With --system it first installs the Debian packages the native modules build against and
# the tests use (needs root and apt).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--system" ]]; then
  # pcscd + vpcd: the real PC/SC stack for card tests; mosquitto (+ clients): the broker for sync tests;
  # socat: pty pairs standing in for a serial scan module; systemd: systemd-analyze for the unit.
  packages=(python3-cbor2 python3-cryptography pcscd libpcsclite-dev vsmartcard-vpcd mosquitto mosquitto-clients socat systemd e2fsprogs util-linux)
  missing=()
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if (( ${#missing[@]} )); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# npm ci only when the lock file changed since the last install: it wipes node_modules.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
else
  npx --no-install tsc -p tsconfig.json >&2
fi
