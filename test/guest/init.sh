#!/bin/busybox sh
# /init of domforge's test guest (built by test/guest/build.sh; the README's real-hypervisor section).
#
# Reports, on the serial console ttyS0, what the guest sees, as lines starting with
# "DOMFORGE-GUEST " that test/hypervisor/console.ts parses:
#   DOMFORGE-GUEST boot KERNEL-RELEASE UPTIME          /init started (UPTIME: guest seconds)
#   DOMFORGE-GUEST module NAME ok|failed               each module it loads
#   DOMFORGE-GUEST block NAME NAME...                  /sys/block (no loop/ram devices)
#   DOMFORGE-GUEST net NAME NAME...                    /sys/class/net
#   DOMFORGE-GUEST config-drive DEVICE LABEL           the drive found by its label
#   DOMFORGE-GUEST begin PATH / base64 lines / end PATH  a file of the drive, byte for byte
#   DOMFORGE-GUEST missing PATH                        a file the drive does not have
#   DOMFORGE-GUEST no-config-drive REASON              no drive with the label
#   DOMFORGE-GUEST config-drive-done UPTIME            the marker: everything above is printed
#   DOMFORGE-FLOOD N 000...                            with domforge.flood=BYTES: line N of about BYTES/105
#   DOMFORGE-GUEST flood-done N                        after the last of those N lines
# then stays alive and prints "block ..." / "net ..." again whenever either changes, so a
# hot-plugged disk or NIC shows up on the console within about half a second.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Kernel messages go to the same console; keep them from splitting our lines.
echo 1 >/proc/sys/kernel/printk
exec >/dev/ttyS0 2>&1 </dev/null

say() { echo "DOMFORGE-GUEST $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
say boot "$(uname -r)" "$(uptime_s)"

# Modules in dependency order, as build.sh resolved them.
for m in $(cat /etc/guest-modules); do
  if insmod "/lib/modules/$m.ko" 2>/dev/null; then say module "$m" ok; else say module "$m" failed; fi
done

blocks() { ls /sys/block | grep -v -e '^loop' -e '^ram' | tr '\n' ' ' | sed 's/ *$//'; }
nets() { ls /sys/class/net | tr '\n' ' ' | sed 's/ *$//'; }

# Devices appear asynchronously after their driver loads: wait until the set is stable.
settle() {
  last=""
  for _ in $(seq 40); do
    now="$(blocks)|$(nets)"
    [ "$now" = "$last" ] && [ -n "$(blocks)" ] && return 0
    last=$now
    sleep 0.25
  done
}
settle
mdev -s 2>/dev/null
say block "$(blocks)"
say net "$(nets)"
say settled "$(uptime_s)"

# The label the controller gave the drive is on the kernel command line when the test
# wants another one (domforge.label=config); config-2 is the OpenStack default.
label=config-2
for arg in $(cat /proc/cmdline); do
  case "$arg" in domforge.label=*) label=${arg#domforge.label=} ;; esac
done

print_file() {
  if [ -f "/mnt/$1" ]; then
    say begin "$1"
    base64 "/mnt/$1"
    say end "$1"
  else
    say missing "$1"
  fi
}

dev=""
for _ in $(seq 20); do
  dev=$(findfs "LABEL=$label" 2>/dev/null) && [ -n "$dev" ] && break
  sleep 0.25
done
mkdir -p /mnt
if [ -z "$dev" ]; then
  say no-config-drive "no block device labelled $label"
elif ! mount -t iso9660 -o ro "$dev" /mnt; then
  say no-config-drive "mount $dev failed"
else
  say config-drive "$dev" "$label"
  print_file openstack/latest/meta_data.json
  print_file openstack/latest/user_data
  print_file openstack/latest/network_data.json
  umount /mnt
fi
say config-drive-done "$(uptime_s)"

# domforge.flood=BYTES on the kernel command line (a filter adds it): numbered lines of
# about BYTES in all, then a marker. Enough to make virtlogd rotate the console log.
flood=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in domforge.flood=*) flood=${arg#domforge.flood=} ;; esac
done
if [ "$flood" -gt 0 ]; then
  pad=$(printf '%080d' 0)
  n=0
  while [ $((n * 105)) -lt "$flood" ]; do
    n=$((n + 1))
    printf 'DOMFORGE-FLOOD %08d %s\n' "$n" "$pad"
  done
  say flood-done "$n"
fi

# Stay alive: report /sys/block and /sys/class/net whenever they change.
last="$(blocks)|$(nets)"
while :; do
  sleep 0.5
  now="$(blocks)|$(nets)"
  if [ "$now" != "$last" ]; then
    say block "$(blocks)"
    say net "$(nets)"
    last=$now
  fi
done
