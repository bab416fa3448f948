#!/usr/bin/env bash
# Brings up the real-hypervisor test tier (the README's real-hypervisor section): QEMU through libvirtd on
# qemu:///system, a hugetlbfs pool, a bridge for guest NICs and the tiny test guest.
#
# Idempotent: a second run checks what is there and starts only what is missing. Every
# outcome is written to "$STATE/status" (one line), which test/hypervisor/ reads:
#   up                 everything is ready
#   skipped: REASON    this machine cannot run the tier (no root, no apt-get, DOMFORGE_HV=0...);
#                      the tests report skipped with REASON
#   failed: REASON     it should have worked and did not; the tests fail with REASON
# The script exits 0 in all three cases, so the rest of the test run goes on; the
# status, not the exit code, carries the outcome.
#
# What it started or changed is recorded under $STATE so hypervisor-down.sh undoes
# exactly that, by PID: a libvirtd that was already running is used and left alone.
#
# Environment:
#   DOMFORGE_HV=0              skip the tier (status "skipped: disabled by DOMFORGE_HV=0")
#   DOMFORGE_HV_STATE          state folder (default /run/domforge-hv; .cache/hv-state when not root)
#   DOMFORGE_HV_HUGEPAGES      2 MiB pages to reserve (default 80, as measured in issue 10)
#   DOMFORGE_HV_BRIDGE         bridge for guest NICs (default dfhv0)
#   DOMFORGE_GUEST_CACHE       where test/guest/build.sh puts the guest (default .cache/guest)
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
# Root keeps its state in /run (gone at reboot, like the daemons); anyone else can only
# record why the tier was skipped, in the repository's ignored .cache folder.
if [ "$(id -u)" = 0 ]; then STATE=${DOMFORGE_HV_STATE:-/run/domforge-hv}; else STATE=${DOMFORGE_HV_STATE:-$REPO/.cache/hv-state}; fi
HUGEPAGES=${DOMFORGE_HV_HUGEPAGES:-80}
BRIDGE=${DOMFORGE_HV_BRIDGE:-dfhv0}
URI=qemu:///system
PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils busybox-static cpio)

log() { echo "hypervisor-up: $*" >&2; }

# Writes the outcome and exits 0 (see the header).
finish() {
  mkdir -p "$STATE" 2>/dev/null
  if [ -d "$STATE" ] && [ -w "$STATE" ]; then
    echo "$1" >"$STATE/status"
  else
    log "cannot write $STATE/status"
  fi
  log "$1"
  exit 0
}

# Records KEY=VALUE in $STATE/env (read by the tests and by hypervisor-down.sh).
record() {
  local key=$1 value=$2
  touch "$STATE/env"
  grep -v "^$key=" "$STATE/env" >"$STATE/env.tmp" || true
  echo "$key=$value" >>"$STATE/env.tmp"
  mv "$STATE/env.tmp" "$STATE/env"
}
recorded() { sed -n "s/^$1=//p" "$STATE/env" 2>/dev/null | tail -1; }

# True when PID is alive and runs the program NAME (guards against a reused PID).
pid_runs() {
  local pid=$1 name=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

# ---------------------------------------------------------------- can this machine do it?
if [ "${DOMFORGE_HV:-1}" = 0 ]; then
  finish "skipped: disabled by DOMFORGE_HV=0"
fi
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  finish "skipped: needs Linux on x86_64 (this is $(uname -s) $(uname -m))"
fi
if [ "$(id -u)" != 0 ]; then
  # libvirtd's system instance, hugetlbfs and bridges all need root; no sudo games in CI.
  finish "skipped: not root (uid $(id -u)); the QEMU tier needs root for libvirtd, hugetlbfs and a bridge"
fi
mkdir -p "$STATE"
chmod 755 "$STATE"

# ---------------------------------------------------------------- packages
missing=()
for p in "${PKGS[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || finish "skipped: apt-get is not available to install ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$STATE/apt.log" 2>&1; then
    finish "skipped: apt-get could not install ${missing[*]} (see $STATE/apt.log: $(tail -1 "$STATE/apt.log"))"
  fi
fi
for prog in libvirtd virtlogd virsh qemu-system-x86_64; do
  command -v "$prog" >/dev/null || finish "failed: $prog is missing after installing ${PKGS[*]}"
done

# ---------------------------------------------------------------- qemu.conf and the libvirt-qemu user
# The QEMU driver refuses to start here until guests run as root with no security driver
# (issue 10). Debian's libvirt-daemon-system would create the libvirt-qemu user; we install
# only the daemon, so create it ourselves.
if ! getent passwd libvirt-qemu >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu ||
    finish "failed: could not create the libvirt-qemu user"
  record created_user libvirt-qemu
fi
QEMU_CONF=/etc/libvirt/qemu.conf
MARK="# written by domforge scripts/hypervisor-up.sh"
want_conf="$MARK
user = \"root\"
group = \"root\"
security_driver = \"none\"
dynamic_ownership = 0"
conf_changed=0
if [ "$(cat "$QEMU_CONF" 2>/dev/null)" != "$want_conf" ]; then
  mkdir -p /etc/libvirt
  if [ -f "$QEMU_CONF" ] && ! grep -qF "$MARK" "$QEMU_CONF" && [ ! -f "$STATE/qemu.conf.orig" ]; then
    cp -p "$QEMU_CONF" "$STATE/qemu.conf.orig"
  fi
  [ -f "$QEMU_CONF" ] || record created_qemu_conf 1
  printf '%s\n' "$want_conf" >"$QEMU_CONF"
  conf_changed=1
fi

# ---------------------------------------------------------------- hugepages
# libvirtd finds hugetlbfs mounts in /proc/mounts when it starts (qemu.conf's
# hugetlbfs_mount is left unset), so this comes before the daemons.
hugepages_note=ok
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
  mkdir -p /dev/hugepages
  if mount -t hugetlbfs hugetlbfs /dev/hugepages 2>"$STATE/mount.err"; then
    record mounted_hugetlbfs /dev/hugepages
  else
    hugepages_note="cannot mount hugetlbfs on /dev/hugepages: $(head -1 "$STATE/mount.err")"
  fi
fi
if [ "$hugepages_note" = ok ]; then
  now=$(cat /proc/sys/vm/nr_hugepages)
  if [ "$now" -lt "$HUGEPAGES" ]; then
    [ -n "$(recorded nr_hugepages_before)" ] || record nr_hugepages_before "$now"
    echo "$HUGEPAGES" >/proc/sys/vm/nr_hugepages 2>/dev/null
    got=$(cat /proc/sys/vm/nr_hugepages)
    [ "$got" -ge "$HUGEPAGES" ] || hugepages_note="asked for $HUGEPAGES 2 MiB hugepages, the kernel reserved $got"
  fi
fi
record hugepages "$hugepages_note"
record hugepages_reserved "$(cat /proc/sys/vm/nr_hugepages)"

# ---------------------------------------------------------------- a bridge for guest NICs
# Guests' NICs need a bridge to plug into; it has no address and no uplink, so no guest
# traffic leaves the machine.
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  if ip link add "$BRIDGE" type bridge 2>"$STATE/bridge.err"; then
    record created_bridge "$BRIDGE"
  else
    finish "failed: cannot create bridge $BRIDGE: $(head -1 "$STATE/bridge.err")"
  fi
fi
ip link set "$BRIDGE" up
record bridge "$BRIDGE"

# ---------------------------------------------------------------- daemons
# Started in the background as root, each in its own session so the test run's process
# group does not take them down; their PIDs are recorded for hypervisor-down.sh.
start_daemon() {
  local name=$1
  shift
  local pid
  pid=$(recorded "${name}_pid")
  if pid_runs "$pid" "$name"; then return 0; fi
  if pid=$(pidof "$name" 2>/dev/null) && [ -n "$pid" ]; then
    log "$name already runs (pid $pid, not started by us): using it"
    record "${name}_foreign_pid" "$pid"
    return 0
  fi
  setsid "$name" "$@" </dev/null >>"$STATE/$name.log" 2>&1 &
  record "${name}_pid" $!
  log "started $name (pid $!)"
}
# A libvirtd we started before the qemu.conf changed must be restarted to read it.
if [ "$conf_changed" = 1 ] && pid_runs "$(recorded libvirtd_pid)" libvirtd; then
  log "qemu.conf changed: restarting the libvirtd we started"
  kill "$(recorded libvirtd_pid)"
  for _ in $(seq 50); do pid_runs "$(recorded libvirtd_pid)" libvirtd || break; sleep 0.2; done
elif [ "$conf_changed" = 1 ] && pid="$(pidof libvirtd)" && [ -n "$pid" ]; then
  log "qemu.conf changed, but libvirtd (pid $pid) is not ours: restart it for the change to apply"
fi
start_daemon virtlogd
start_daemon libvirtd
ready=0
for _ in $(seq 150); do
  if virsh -q -c "$URI" version >/dev/null 2>&1; then ready=1; break; fi
  pid_runs "$(recorded libvirtd_pid)" libvirtd || [ -n "$(recorded libvirtd_foreign_pid)" ] || break
  sleep 0.2
done
[ "$ready" = 1 ] || finish "failed: libvirtd does not answer on $URI (see $STATE/libvirtd.log: $(tail -1 "$STATE/libvirtd.log" 2>/dev/null))"
caps=$(virsh -q -c "$URI" capabilities 2>/dev/null)
grep -q "<domain type='qemu'" <<<"$caps" ||
  finish "failed: libvirtd's QEMU driver offers no domain type qemu (see $STATE/libvirtd.log)"

# ---------------------------------------------------------------- the test guest
if ! bash "$REPO/test/guest/build.sh" >"$STATE/guest.log" 2>&1; then
  finish "failed: the test guest did not build (see $STATE/guest.log: $(tail -1 "$STATE/guest.log"))"
fi
# build.sh prints KERNEL=..., INITRD=..., GUEST_VERSION=... on its last lines.
while IFS='=' read -r k v; do
  case "$k" in KERNEL | INITRD | GUEST_KERNEL_VERSION) record "$(echo "$k" | tr 'A-Z' 'a-z')" "$v" ;; esac
done <"$STATE/guest.log"
record uri "$URI"
finish up
