#!/usr/bin/env bash
# Install citygate on Raspberry Pi OS (Bookworm) from a checkout: Debian
# packages, the `citygate` system user and its groups, the program in
# /opt/citygate, the systemd unit, udev rules and the pcscd polkit rule.
# Safe to run again (an upgrade is the same command). Provisioning is separate:
# the script ends by printing the `citygate provision` step.
#
#   sudo systemd/install.sh              install on this board
#   systemd/install.sh --dry-run         print every action, change nothing
#   systemd/install.sh --prefix DIR      install the files under DIR (a staging root);
#                                        system-wide steps (apt, users, systemctl, udev) are printed, not run
#   --skip-build                         use the checkout's dist/ and node_modules/ as they are
#                                        (a developer's staging root; a board always builds)
set -euo pipefail

CHECKOUT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/
DRY_RUN=0
SKIP_BUILD=0
while (($#)); do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift ;;
    --prefix=*) PREFIX=${1#--prefix=} ;;
    --skip-build) SKIP_BUILD=1 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
PREFIX=${PREFIX%/}

SERVICE_USER=citygate
GROUPS_NEEDED=(gpio i2c dialout video audio)
# pcscd + libpcsclite-dev: card readers (the pcsclite module builds against the headers);
# build-essential + python3: native modules without a prebuilt binary for the board;
# openssl: the device's certificate request; i2c-tools: i2cdetect for the technician;
# ffmpeg: camera frames for the v4l2 scanner.
APT_PACKAGES=(pcscd libpcsclite-dev openssl i2c-tools ffmpeg alsa-utils build-essential python3 ca-certificates)
NODE_MIN=20.19
# What the gate runs; tests, CI and dev tools stay in the checkout.
SOURCES=(package.json package-lock.json tsconfig.json bin src hal sim provisioning bench docs systemd assets)

OPT=$PREFIX/opt/citygate
UNIT=$PREFIX/etc/systemd/system/citygate.service
UDEV_RULES=$PREFIX/etc/udev/rules.d/99-citygate.rules
POLKIT_RULES=$PREFIX/etc/polkit-1/rules.d/60-citygate-pcscd.rules
LAUNCHER=$PREFIX/usr/local/bin/citygate

say() { printf 'install.sh: %s\n' "$*"; }

# A step that changes this root's files: printed under --dry-run.
run() {
  if ((DRY_RUN)); then printf '+ %s\n' "$*"; else "$@"; fi
}

# A step that changes the running system (packages, users, services): only on the real root.
system() {
  if ((DRY_RUN)); then
    printf '+ %s\n' "$*"
  elif [[ -n $PREFIX ]]; then
    printf 'skipped under --prefix: %s\n' "$*"
  else
    "$@"
  fi
}

check_root() {
  if [[ -z $PREFIX ]] && ((!DRY_RUN)) && [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: run as root (sudo $0), or use --dry-run / --prefix DIR" >&2
    exit 1
  fi
}

check_node() {
  local version
  if ! version=$(node --version 2>/dev/null); then
    echo "install.sh: Node.js ${NODE_MIN} or newer is needed and node is not installed." >&2
    echo "  Raspberry Pi OS Bookworm ships Node 18; install Node 20 LTS (e.g. the NodeSource nodejs package), then run this again." >&2
    exit 1
  fi
  version=${version#v}
  if [[ $(printf '%s\n%s\n' "$NODE_MIN" "$version" | sort -V | head -n1) != "$NODE_MIN" ]]; then
    echo "install.sh: Node.js ${NODE_MIN} or newer is needed; this is ${version}. Install Node 20 LTS, then run this again." >&2
    exit 1
  fi
  local node_path
  node_path=$(command -v node)
  if [[ $node_path != /usr/bin/node ]]; then
    say "note: node is at ${node_path}; the unit starts /usr/bin/node (edit ExecStart with: systemctl edit citygate)"
  fi
  say "Node.js ${version}"
}

install_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    say "Debian packages present: ${APT_PACKAGES[*]}"
    return
  fi
  system apt-get update -qq
  system env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

create_user() {
  local group
  for group in "${GROUPS_NEEDED[@]}"; do
    # Raspberry Pi OS has them all; a plain Debian lacks gpio and i2c, and systemd refuses a unit naming a missing group.
    getent group "$group" >/dev/null || system groupadd --system "$group"
  done
  if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    system useradd --system --user-group --home-dir /var/lib/citygate --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  system usermod --append --groups "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" "$SERVICE_USER"
}

install_program() {
  local item
  run mkdir -p "$OPT"
  for item in "${SOURCES[@]}"; do
    # Replaced whole, so a file deleted upstream does not linger.
    run rm -rf "${OPT:?}/$item"
    run cp -a "$CHECKOUT/$item" "$OPT/$item"
  done
  if ((SKIP_BUILD)); then
    run rm -rf "$OPT/dist" "$OPT/node_modules"
    run cp -a "$CHECKOUT/dist" "$OPT/dist"
    run cp -a "$CHECKOUT/node_modules" "$OPT/node_modules"
  else
    # npm ci builds the TypeScript (package.json's prepare script), which needs the dev
    # dependencies; the gate then keeps only what it runs.
    run rm -rf "$OPT/dist"
    run npm --prefix "$OPT" ci --no-audit --no-fund
    run npm --prefix "$OPT" prune --omit=dev --no-audit --no-fund
  fi
  run chmod 0755 "$OPT/dist/bin/citygate.js"
  run mkdir -p "$(dirname "$LAUNCHER")"
  run ln -sfn /opt/citygate/dist/bin/citygate.js "$LAUNCHER"
}

install_system_files() {
  run install -D -m 0644 "$CHECKOUT/systemd/citygate.service" "$UNIT"
  run install -D -m 0644 "$CHECKOUT/systemd/udev/99-citygate.rules" "$UDEV_RULES"
  run install -D -m 0644 "$CHECKOUT/systemd/polkit/60-citygate-pcscd.rules" "$POLKIT_RULES"
  # The config directory is made by provisioning, the state directory by systemd (StateDirectory=).
}

configure_board() {
  if command -v raspi-config >/dev/null 2>&1; then
    system raspi-config nonint do_i2c 0
  else
    say "raspi-config not found: enable I2C yourself if the board has an I2C display or RTC (dtparam=i2c_arm=on)"
  fi
  system udevadm control --reload-rules
  system udevadm trigger --subsystem-match=tty --subsystem-match=video4linux
  system systemctl daemon-reload
  system systemctl enable pcscd.socket
}

next_steps() {
  cat <<EOF

citygate is installed in ${OPT}. Next (docs/field-ops.md):
  1. sudo citygate provision --gate-id ID --site SITE --mode MODE \\
       --broker mqtts://BROKER:8883 --trust trust.json --fleet-key fleet-public.json --devices devices.json
  2. send /etc/citygate/device.csr to fleet ops, then:
     sudo citygate provision install-cert --cert device-cert.pem --ca broker-ca.pem
  3. sudo citygate selftest --config /etc/citygate/config.json
  4. sudo systemctl enable --now citygate && citygate status
EOF
}

check_root
check_node
install_packages
create_user
install_program
install_system_files
configure_board
next_steps
