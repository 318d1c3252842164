#!/usr/bin/env bash
# Makes sure the system programs ioc-telemetry runs are present: installs the Debian packages
# when we are root, otherwise names exactly what to install. Arguments: PACKAGE:PROGRAM pairs, where
# PROGRAM may instead be an absolute file path, glob allowed (PACKAGE:/usr/lib/*/girepository-1.0/X).
set -euo pipefail

missing=()
for pair in "$@"; do
  package=${pair%%:*}
  program=${pair#*:}
  if [[ $program == /* ]]; then
    # A library, typelib or plugin, not a program; the glob stands for the multiarch folder
    # (x86_64-linux-gnu, aarch64-linux-gnu), which differs between machines.
    if ! compgen -G "$program" >/dev/null; then
      missing+=("$package")
    fi
  # Programs like mosquitto live in /usr/sbin, which is not on every user's PATH.
  elif ! PATH="$PATH:/usr/sbin:/sbin" command -v "$program" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done
# A Python without venv/ensurepip (Debian's python3 without python3-venv) cannot make .venv.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=("python3-venv")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packages' own services are not wanted: ioc-telemetry starts its own on free ports.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "Missing system packages: ${missing[*]}" >&2
echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
exit 1
