#!/usr/bin/env bash
# One-time set-up for domforge on a Debian machine (run as root, or with sudo available).
# Installs the system packages the project and its tests use, then the npm dependencies.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages:
#   libvirt-dev libvirt-clients  -> the native @unraid/libvirt binding, virsh, virt-xml-validate and libvirt's RNG schemas
#   xsltproc libxml2-utils       -> libxslt (the XSLT reference engine) and xmllint
#   xorriso genisoimage          -> ISO 9660 readers/writers used as test oracles and benchmark references
#   libarchive-tools             -> bsdtar, libarchive's ISO 9660 reader (front to back), a test oracle
#   util-linux                   -> blkid
#   cloud-init                   -> cloud-init's own ConfigDrive reader, used as a test oracle
PKGS=(libvirt-dev libvirt-clients xsltproc libxml2-utils xorriso genisoimage libarchive-tools util-linux cloud-init python3 g++ make pkg-config)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends keeps cloud-init from pulling in a whole network stack.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund
fi
echo "setup: ok" >&2
