#!/bin/sh
# Regenerates cases/ from a real ansible-playbook run (needs ansible-core 2.14).
# ansible/main.yml runs once with the tally_golden stdout callback, which writes the run's
# events to cases/events.jsonl and, for each case it defines (verbosity, options, colour), the
# output of Ansible's default callback to cases/NAME.golden. tally prints a job line first,
# which is added here. Run from anywhere: sh host/display/testdata/gen.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$here/cases"
mkdir -p "$here/cases"
counters=$(mktemp -d)
trap 'rm -rf "$counters"' EXIT

cd "$here/ansible"
# The playbook fails hosts on purpose: ansible-playbook exits 2 (4 with an unreachable host).
status=0
env ANSIBLE_STDOUT_CALLBACK=tally_golden ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
	ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_NOCOWS=1 \
	TALLY_GOLDEN_DIR="$here/cases" \
	ansible-playbook -i inventory.ini main.yml -e counter_dir="$counters" || status=$?
if [ "$status" -ne 2 ] && [ "$status" -ne 4 ]; then
	echo "ansible-playbook exited $status" >&2
	exit 1
fi
find "$here/ansible" -name __pycache__ -prune -exec rm -rf {} +

for golden in "$here"/cases/*.golden; do
	{ echo 'JOB [test-job]'; cat "$golden"; } >"$golden.tmp"
	mv "$golden.tmp" "$golden"
done
