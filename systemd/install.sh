#!/bin/sh
# Install or upgrade chargectl as a systemd service on a Raspberry Pi (Pi OS bookworm or later).
#
#   sudo systemd/install.sh            # from a checkout of the repository
#
# Idempotent: run it again to upgrade. It never overwrites an existing /etc/chargectl/config.toml.
# For a dry run into a scratch tree set ROOT=/some/dir (no systemctl, no apt, no user creation
# outside that tree).
set -eu

ROOT=${ROOT:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/opt/chargectl}
PYTHON=${PYTHON:-python3}
START=${START:-yes}

say() { printf 'chargectl install: %s\n' "$*"; }

if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  say "run me as root (sudo $0)"; exit 1
fi

if [ -z "$ROOT" ] && ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  say "installing python3-venv"
  apt-get install -y python3-venv
fi

venv="$ROOT$PREFIX/venv"
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$PYTHON" -m venv "$venv"
fi
say "installing chargectl from $SRC into $venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --upgrade "$SRC"

install -d -m 0755 "$ROOT/etc/chargectl" "$ROOT/etc/systemd/system" "$ROOT/usr/lib/sysusers.d" \
  "$ROOT/etc/udev/rules.d" "$ROOT/etc/systemd/journald.conf.d"
install -m 0644 "$SRC/systemd/chargectl.service" "$ROOT/etc/systemd/system/chargectl.service"
install -m 0644 "$SRC/systemd/chargectl.sysusers" "$ROOT/usr/lib/sysusers.d/chargectl.conf"
install -m 0644 "$SRC/systemd/99-chargectl-pwm.rules" "$ROOT/etc/udev/rules.d/99-chargectl-pwm.rules"
install -m 0644 "$SRC/systemd/journald-chargectl.conf" "$ROOT/etc/systemd/journald.conf.d/chargectl.conf"

if [ -e "$ROOT/etc/chargectl/config.toml" ]; then
  say "keeping the existing /etc/chargectl/config.toml"
else
  install -m 0640 "$SRC/systemd/config.example.toml" "$ROOT/etc/chargectl/config.toml"
  say "wrote /etc/chargectl/config.toml from the example: edit [ocpp] and [[connector]] before use"
fi

if [ -n "$ROOT" ]; then
  systemd-sysusers --root="$ROOT" "$ROOT/usr/lib/sysusers.d/chargectl.conf"
  say "installed into $ROOT (no services touched)"
  exit 0
fi

systemd-sysusers /usr/lib/sysusers.d/chargectl.conf
chgrp evse /etc/chargectl/config.toml
udevadm control --reload-rules 2>/dev/null || true
udevadm trigger --subsystem-match=pwm 2>/dev/null || true
systemctl daemon-reload
systemctl restart systemd-journald 2>/dev/null || true
if [ "$START" = yes ]; then
  systemctl enable chargectl.service
  systemctl restart chargectl.service
  say "running: 'chargectl status' shows the connectors, 'journalctl -u chargectl -f' the log"
else
  say "installed; start it with: systemctl enable --now chargectl"
fi
