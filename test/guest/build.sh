#!/usr/bin/env bash
# Builds domforge's test guest: Debian's kernel and a busybox initramfs whose /init
# (test/guest/init.sh) reads the config drive and reports to ttyS0 (the README's real-hypervisor section).
#
# The kernel comes from the linux-image-amd64 package, fetched with `apt-get download` and
# unpacked with `dpkg-deb -x`, never installed. Not the smaller cloud kernel: it lacks AHCI,
# and the q35 machine's config drive sits on SATA.
#
# Output in $DOMFORGE_GUEST_CACHE (default .cache/guest in the repository, ignored by git):
#   vmlinuz, initrd.img, and the last lines on stdout:
#   KERNEL=/abs/path/vmlinuz  INITRD=/abs/path/initrd.img  GUEST_KERNEL_VERSION=6.1.0-...
# Idempotent: the kernel package is fetched once, the initramfs rebuilt only when init.sh,
# this script or the kernel changed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${DOMFORGE_GUEST_CACHE:-$REPO/.cache/guest}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# Kernel modules /init loads, in this order after their dependencies: the IDE and SATA
# CDROM paths (pc: ata_piix, q35: ahci), the CD filesystem, virtio for disks and NICs, the
# emulated legacy NIC (e1000) and SCSI disks (virtio_scsi, sd_mod).
WANT=(ata_piix ahci sr_mod isofs virtio_pci virtio_blk virtio_net virtio_scsi sd_mod e1000)

command -v busybox >/dev/null || { echo "build.sh: busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
BUSYBOX=$(command -v busybox)
applets=$("$BUSYBOX" --list)
if ! grep -qx findfs <<<"$applets"; then
  echo "build.sh: $BUSYBOX has no findfs applet (install busybox-static)" >&2
  exit 1
fi
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "build.sh: $BUSYBOX is dynamically linked; the guest needs busybox-static" >&2
  exit 1
fi
command -v cpio >/dev/null || { echo "build.sh: cpio is missing" >&2; exit 1; }

# ---------------------------------------------------------------- the kernel package
meta=linux-image-amd64
pkg=$(apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
if [ -z "$pkg" ]; then
  apt-get update -qq >&2
  pkg=$(apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
fi
[ -n "$pkg" ] || { echo "build.sh: cannot tell which kernel package $meta depends on" >&2; exit 1; }
kver=${pkg#linux-image-}
deb=$(ls "$CACHE"/"${pkg}"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ] && [ ! -f "$CACHE/kernel-$kver/boot/vmlinuz-$kver" ]; then
  echo "build.sh: fetching $pkg" >&2
  # apt-get download writes to the current folder; _apt cannot write ours, so it warns and runs as root.
  (cd "$CACHE" && apt-get download "$pkg" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  deb=$(ls "$CACHE"/"${pkg}"_*.deb 2>/dev/null | head -1 || true)
  [ -n "$deb" ] || { echo "build.sh: apt-get download $pkg failed" >&2; exit 1; }
fi
KROOT=$CACHE/kernel-$kver
if [ ! -f "$KROOT/boot/vmlinuz-$kver" ]; then
  # Only the folders the modules below (and their dependencies) live in: the whole package
  # unpacks to 400 MB, this to about 120 MB in a third of the time.
  rm -rf "$KROOT.tmp"
  mkdir -p "$KROOT.tmp"
  m="./lib/modules/$kver"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KROOT.tmp" --wildcards "./boot/vmlinuz-$kver" "$m/modules.builtin" \
    "$m/kernel/drivers/ata/*" "$m/kernel/drivers/scsi/*" "$m/kernel/drivers/cdrom/*" "$m/kernel/drivers/block/*" \
    "$m/kernel/drivers/virtio/*" "$m/kernel/drivers/net/*" "$m/kernel/fs/isofs/*" "$m/kernel/lib/*" \
    "$m/kernel/crypto/*" "$m/kernel/net/core/*" "$m/kernel/block/*"
  rm -rf "$KROOT"
  mv "$KROOT.tmp" "$KROOT"
  rm -f "$deb"
fi
MODDIR=$KROOT/lib/modules/$kver

# ---------------------------------------------------------------- up to date?
stamp=$( (cat "$HERE/init.sh" "$HERE/build.sh"; echo "$kver") | sha256sum | cut -c1-16)
if [ -f "$CACHE/initrd.img" ] && [ "$(cat "$CACHE/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "build.sh: guest up to date ($kver, $stamp)" >&2
else
  # ------------------------------------------------------------ modules in dependency order
  # A module's dependencies are its .modinfo "depends=" field (what depmod reads).
  declare -A path_of=() done_=()
  while IFS= read -r f; do
    n=$(basename "$f" .ko)
    path_of[${n//-/_}]=$f
  done < <(find "$MODDIR/kernel" -name '*.ko')
  order=()
  builtin=$(sed 's#.*/##; s/\.ko$//; s/-/_/g' "$MODDIR/modules.builtin")
  visit() {
    local m=${1//-/_}
    [ -n "${done_[$m]:-}" ] && return 0
    done_[$m]=1
    if [ -z "${path_of[$m]:-}" ]; then
      grep -qx "$m" <<<"$builtin" && return 0
      echo "build.sh: module $m is neither in $kver's modules nor built in" >&2
      exit 1
    fi
    local deps
    deps=$(busybox strings "${path_of[$m]}" | sed -n 's/^depends=//p' | head -1 | tr ',' ' ')
    for d in $deps; do visit "$d"; done
    order+=("$m")
  }
  for m in "${WANT[@]}"; do visit "$m"; done

  # ------------------------------------------------------------ the initramfs
  ROOT=$(mktemp -d)
  trap 'rm -rf "$ROOT"' EXIT
  mkdir -p "$ROOT"/{bin,dev,etc,proc,sys,mnt,tmp,lib/modules}
  cp "$BUSYBOX" "$ROOT/bin/busybox"
  ln -s busybox "$ROOT/bin/sh"
  install -m 755 "$HERE/init.sh" "$ROOT/init"
  for m in "${order[@]}"; do cp "${path_of[$m]}" "$ROOT/lib/modules/$m.ko"; done
  printf '%s\n' "${order[@]}" >"$ROOT/etc/guest-modules"
  (cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$CACHE/initrd.img.tmp"
  mv "$CACHE/initrd.img.tmp" "$CACHE/initrd.img"
  cp "$KROOT/boot/vmlinuz-$kver" "$CACHE/vmlinuz"
  echo "$stamp" >"$CACHE/stamp"
  echo "build.sh: built the guest: $kver, modules ${order[*]}" >&2
fi
echo "KERNEL=$CACHE/vmlinuz"
echo "INITRD=$CACHE/initrd.img"
echo "GUEST_KERNEL_VERSION=$kver"
