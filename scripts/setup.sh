#!/usr/bin/env bash
# Set up a fresh checkout: npm packages (with native builds) and the TypeScript build.
# With --system it first installs the Debian packages the native modules build against and
# the tests use (needs root and apt).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--system" ]]; then
  # pcscd + vpcd: the real PC/SC stack for card tests; mosquitto (+ clients): the broker for sync tests;
  # socat: pty pairs standing in for a serial scan module; systemd: systemd-analyze for the unit;
  # chromium: the browser the sim lane's page is tested in (test/simUi.test.ts);
  # postgresql: the collector's shared database, started per test (test/collectorPostgres.test.ts).
  # openssl: test fleet CAs and device certificates (sim/fleetCa.ts), the transport-code interop encoder.
  packages=(python3-cbor2 python3-cryptography pcscd libpcsclite-dev vsmartcard-vpcd mosquitto mosquitto-clients socat systemd e2fsprogs util-linux chromium postgresql openssl)
  missing=()
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if (( ${#missing[@]} )); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
    # Progress on stderr, step by step: the first run takes minutes, and stdout is the sim's JSON lines.
    echo "setup: installing the Debian packages ${missing[*]} (apt-get; a few minutes the first time)" >&2
    started=$SECONDS
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    echo "setup: Debian packages installed in $((SECONDS - started)) s" >&2
  fi
fi

# npm ci only when the lock file changed since the last install: it wipes node_modules.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci: fetching the npm packages, compiling the native ones (better-sqlite3, pcsclite, ...) and building the TypeScript; a few minutes the first time" >&2
  started=$SECONDS
  # .npmrc silences npm for `npm run`; an install says what it does.
  npm ci --no-audit --no-fund --loglevel=notice >&2
  echo "setup: npm packages installed and built in $((SECONDS - started)) s" >&2
else
  echo "setup: building the TypeScript (tsc -p tsconfig.json)" >&2
  npx --no-install tsc -p tsconfig.json >&2
fi
