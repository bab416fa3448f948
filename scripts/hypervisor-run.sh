#!/usr/bin/env bash
# Runs a command with the real-hypervisor tier up, then takes the tier down again and
# exits with the command's own code (the README's real-hypervisor section). The README's test command runs
# the test runner through it:
#   bash scripts/hypervisor-run.sh node --test --test-concurrency=2 dist/test/
# hypervisor-up.sh never fails the run: a machine that cannot host the tier gets a
# "skipped: REASON" status, and test/hypervisor/ reports its tests skipped with REASON.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { echo "usage: hypervisor-run.sh COMMAND [ARGS...]" >&2; exit 2; }
bash scripts/hypervisor-up.sh
down() { bash scripts/hypervisor-down.sh; }
trap 'down; exit 130' INT
trap 'down; exit 143' TERM
"$@"
rc=$?
trap - INT TERM
down
exit $rc
