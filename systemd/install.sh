#!/bin/sh
# Install or upgrade chargectl as a systemd service on a Raspberry Pi (Pi OS bookworm or later).
#
#   sudo systemd/install.sh            # from a checkout of the repository
#
# Idempotent: run it again to upgrade. It never overwrites an existing /etc/chargectl/config.toml.
# The dependencies come from systemd/requirements.lock (exact versions and hashes, `make lock`),
# so two Pis installed months apart run the same code.
# It starts the service only when the configuration is valid and names real hardware: with the
# example's driver = "sim" it enables the unit and says what to edit.
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

# Each release has its own venv, $PREFIX/venvs/chargectl-VERSION; $PREFIX/venv is a symlink to
# the one the service runs, switched by an atomic rename (firmware updates use the same layout).
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$SRC/controller/__init__.py")
[ -n "$version" ] || { say "cannot read the version from $SRC/controller/__init__.py"; exit 1; }
link="$ROOT$PREFIX/venv"
install -d -m 0755 "$ROOT$PREFIX" "$ROOT$PREFIX/venvs"
venv="$ROOT$PREFIX/venvs/chargectl-$version"
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  "$PYTHON" -m venv "$venv"
fi
say "installing chargectl from $SRC into $venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --require-hashes -r "$SRC/systemd/requirements.lock"
"$venv/bin/python" -m pip install --quiet --upgrade --no-deps "$SRC"
if [ -d "$link" ] && [ ! -L "$link" ]; then
  # An installation from before versioned venvs: the symlink takes its place.
  say "replacing the venv directory $link by a link to $venv"
  rm -rf "$link.old" && mv "$link" "$link.old"
fi
ln -sfn "venvs/chargectl-$version" "$link.new" && mv -T "$link.new" "$link"
rm -rf "$link.old"
install -m 0755 "$SRC/systemd/chargectl-boot-check" "$ROOT$PREFIX/boot-check"
install -d -m 0755 "$ROOT/usr/local/bin"
ln -sfn "$PREFIX/venv/bin/chargectl" "$ROOT/usr/local/bin/chargectl"

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

# Start only what can run: a valid configuration with real hardware (not the simulator).
config="$ROOT/etc/chargectl/config.toml"
ready=no
if problems=$("$venv/bin/chargectl" check-config --config "$config" 2>&1 >/dev/null); then
  if "$venv/bin/python" -c 'import sys
from controller.config import load_settings
sys.exit(any(c.driver == "sim" for c in load_settings(sys.argv[1]).connector))' "$config"; then
    ready=yes
  else
    say "not starting: /etc/chargectl/config.toml still uses the simulator (driver = \"sim\")."
    say "edit [ocpp] url and charge_point_id and each [[connector]] driver, then run:"
    say "  sudo chargectl check-config && sudo chargectl check-hw && sudo systemctl start chargectl"
  fi
else
  say "not starting: /etc/chargectl/config.toml is not valid:"
  printf '%s\n' "$problems" | sed -n '1,/^where each value/p' | sed '/^where each value/d; s/^/  /'
  say "fix it, then: sudo chargectl check-config && sudo systemctl start chargectl"
fi

if [ -n "$ROOT" ]; then
  systemd-sysusers --root="$ROOT" "$ROOT/usr/lib/sysusers.d/chargectl.conf"
  say "installed into $ROOT (no services touched; would start: $ready)"
  exit 0
fi

systemd-sysusers /usr/lib/sysusers.d/chargectl.conf
chgrp evse /etc/chargectl/config.toml
# The service installs firmware updates here (a new venv beside the running one).
chown evse:evse "$PREFIX/venvs"
# An installer run is an upgrade by hand: no firmware trial of an older release goes on.
rm -f /var/lib/chargectl/firmware/switch /var/lib/chargectl/firmware/trial \
  /var/lib/chargectl/firmware/starts
udevadm control --reload-rules 2>/dev/null || true
udevadm trigger --subsystem-match=pwm 2>/dev/null || true
systemctl daemon-reload
systemctl restart systemd-journald 2>/dev/null || true
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  usermod -aG evse "$SUDO_USER"
  say "added $SUDO_USER to group evse: 'chargectl status' works without sudo after a new login"
fi
systemctl enable chargectl.service
if [ "$START" = yes ] && [ "$ready" = yes ]; then
  systemctl restart chargectl.service
  say "running: 'chargectl status' shows the connectors, 'journalctl -u chargectl -f' the log"
elif [ "$ready" = yes ]; then
  say "installed and enabled; start it with: sudo systemctl start chargectl"
fi
