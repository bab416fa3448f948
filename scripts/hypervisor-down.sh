#!/usr/bin/env bash
# Undoes what scripts/hypervisor-up.sh did, and only that (the README's real-hypervisor section):
#   1. destroys and undefines the test tier's leftover domains (names starting dfhv-);
#   2. stops the libvirtd and virtlogd it started, by their recorded PIDs (a daemon that
#      was already running before is left alone);
#   3. gives back the hugepages it reserved, unmounts the hugetlbfs it mounted, removes the
#      bridge it created and puts back the qemu.conf it replaced.
# Idempotent: with nothing recorded it does nothing. Writes "down" to $STATE/status.
# Installed packages and the test guest's cache stay, so the next hypervisor-up is quick.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
if [ "$(id -u)" = 0 ]; then STATE=${DOMFORGE_HV_STATE:-/run/domforge-hv}; else STATE=${DOMFORGE_HV_STATE:-$REPO/.cache/hv-state}; fi
URI=qemu:///system
PREFIX=dfhv-

log() { echo "hypervisor-down: $*" >&2; }
recorded() { sed -n "s/^$1=//p" "$STATE/env" 2>/dev/null | tail -1; }
forget() {
  [ -f "$STATE/env" ] || return 0
  grep -v "^$1=" "$STATE/env" >"$STATE/env.tmp" || true
  mv "$STATE/env.tmp" "$STATE/env"
}
pid_runs() {
  local pid=$1 name=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

if [ ! -f "$STATE/env" ]; then
  log "nothing recorded in $STATE: nothing to undo"
  exit 0
fi

# ---------------------------------------------------------------- leftover test domains
if [ "$(id -u)" = 0 ] && command -v virsh >/dev/null && virsh -q -c "$URI" version >/dev/null 2>&1; then
  names=$(virsh -q -c "$URI" list --all --name 2>/dev/null | grep "^$PREFIX" || true)
  for name in $names; do
    log "removing leftover domain $name"
    virsh -q -c "$URI" destroy "$name" >/dev/null 2>&1 || true
    virsh -q -c "$URI" undefine "$name" >/dev/null 2>&1 || true
  done
  others=$(virsh -q -c "$URI" list --name 2>/dev/null | grep -v '^$' || true)
  [ -z "$others" ] || log "other running domains (not the tier's, left alone): $others"
fi

# ---------------------------------------------------------------- daemons, by PID
stop_daemon() {
  local name=$1 pid
  pid=$(recorded "${name}_pid")
  if pid_runs "$pid" "$name"; then
    kill -TERM "$pid"
    for _ in $(seq 50); do pid_runs "$pid" "$name" || break; sleep 0.2; done
    if pid_runs "$pid" "$name"; then
      log "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
      kill -KILL "$pid"
    fi
    log "stopped $name (pid $pid)"
  fi
  forget "${name}_pid"
  forget "${name}_foreign_pid"
}
stop_daemon libvirtd
stop_daemon virtlogd

# ---------------------------------------------------------------- hugepages, bridge, qemu.conf
before=$(recorded nr_hugepages_before)
if [ -n "$before" ]; then
  echo "$before" >/proc/sys/vm/nr_hugepages 2>/dev/null || log "cannot set vm.nr_hugepages back to $before"
  forget nr_hugepages_before
fi
if [ -n "$(recorded mounted_hugetlbfs)" ]; then
  umount "$(recorded mounted_hugetlbfs)" 2>/dev/null || log "cannot unmount $(recorded mounted_hugetlbfs) (busy?)"
  forget mounted_hugetlbfs
fi
bridge=$(recorded created_bridge)
if [ -n "$bridge" ]; then
  ip link del "$bridge" 2>/dev/null || true
  forget created_bridge
fi
if [ -f "$STATE/qemu.conf.orig" ]; then
  cp -p "$STATE/qemu.conf.orig" /etc/libvirt/qemu.conf && rm -f "$STATE/qemu.conf.orig"
fi
# A qemu.conf we created where there was none stays: it only matters to a libvirtd, and the
# next hypervisor-up would write it again. The libvirt-qemu user stays for the same reason.
echo down >"$STATE/status"
log "down"
