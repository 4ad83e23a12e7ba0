#!/usr/bin/env bash
# End-to-end benchmark: N inventory hosts (default 20), all the same local sshd, run the five
# tasks of playbook.yml with ansible-playbook (pipelining on, forks N), with tally (forks N),
# and as bare commands with cmd/sshfloor (one connection per host, in lock step): the floor.
# Then what tally's bridge adds to ansible-playbook (tally run --engine ansible against
# ansible-playbook alone): on the same playbook, and on events.yml, 10,000 loop-item events on
# N local hosts.
# Then what plugins add to tally's run: the same playbook with the default, summary, jsonl and
# junit plugins (of PLUGINS, warm cache) against the built-in display alone, and the time of
# tally plugins list over the bundled plugins, warm.
# Prints the median wall time of RUNS runs of each (default 5, after one warm-up run) and the
# ratios. Needs root (it starts sshd and creates the login user) and openssh-server.
#
#   bench/e2e/run.sh [N]        env: RUNS=5, TALLY=a tally binary (default: build bin/tally),
#                               PLUGINS=the bundled plugins (default: build/plugins, make plugins)
BENCH=bench-e2e
source "$(dirname "$0")/../lib.sh"

N=${1:-${N:-20}}
RUNS=${RUNS:-5}
AT_EXIT+=('rm -f /tmp/tally-bench-h[0-9]*.txt')

PORT=$(free_port)
start_sshd sshd "$PORT" 500 127.0.0.1

{
	echo "[bench]"
	for i in $(seq "$N"); do printf 'h%03d\n' "$i"; done
	echo "[bench:vars]"
	echo "ansible_host=127.0.0.1"
	inventory_vars "$PORT"
} > "$WORK/inventory.ini"

build_tools

# ansible_run [PROGRAM...]: the playbook by ansible-playbook, or by PROGRAM's ansible-playbook
# (tally run --engine ansible).
ansible_run() {
	# A fresh ControlPath directory per run: no run reuses another's master connections.
	ANSIBLE_SSH_CONTROL_PATH_DIR=$(mktemp -d "$WORK/cp.XXXXXX") ANSIBLE_PIPELINING=True \
		ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_RETRY_FILES_ENABLED=False \
		"${@:-ansible-playbook}" -i "$WORK/inventory.ini" -f "$N" "$ROOT/bench/e2e/playbook.yml"
}

{
	echo "[local]"
	for i in $(seq "$N"); do printf 'l%03d\n' "$i"; done
	echo "[local:vars]"
	echo "ansible_connection=local"
	echo "ansible_python_interpreter=/usr/bin/python3"
} > "$WORK/local.ini"
ITEMS=$((10000 / N))
events_run() {
	ANSIBLE_RETRY_FILES_ENABLED=False "${@:-ansible-playbook}" -i "$WORK/local.ini" -f "$N" -e "items=$ITEMS" "$ROOT/bench/e2e/events.yml"
}

echo "bench-e2e: $N hosts x 5 tasks on one sshd, median of $RUNS runs"
floor=$(timed sshfloor "$WORK/sshfloor" -addr "127.0.0.1:$PORT" -user "$USER_NAME" -key "$WORK/id_ed25519" \
	-known-hosts "$WORK/known_hosts" -n "$N") || floor=
ansible=$(timed ansible ansible_run) || ansible=
tally=
if [ -n "$TALLY" ]; then
	tally=$(timed tally "$TALLY" run -i "$WORK/inventory.ini" -f "$N" "$ROOT/bench/e2e/playbook.yml") || tally=
fi

# Plugins: their cache warmed first (tally plugins warm), as make install does.
PLUGINS=${PLUGINS:-$ROOT/build/plugins}
plain= plugged= listed=
if [ -n "$TALLY" ] && [ -f "$PLUGINS/default.wasm" ]; then
	export XDG_CACHE_HOME=$WORK/cache
	mkdir -p "$WORK/empty" "$WORK/out"
	"$TALLY" plugins warm --callback-path "$PLUGINS" >/dev/null
	plain=$(timed plain "$TALLY" run --callback-path "$WORK/empty" -i "$WORK/inventory.ini" -f "$N" "$ROOT/bench/e2e/playbook.yml") || plain=
	plugged=$(timed plugged "$TALLY" run --callback-path "$PLUGINS" --callbacks summary,jsonl,junit \
		--callback-opt "summary.dir=$WORK/out" --callback-opt "jsonl.dir=$WORK/out" --callback-opt "junit.dir=$WORK/out" \
		-i "$WORK/inventory.ini" -f "$N" "$ROOT/bench/e2e/playbook.yml") || plugged=
	listed=$(timed listed "$TALLY" plugins list --callback-path "$PLUGINS") || listed=
	unset XDG_CACHE_HOME
elif [ -n "$TALLY" ]; then
	echo "bench-e2e: no $PLUGINS/default.wasm (make plugins): the plugin rows are skipped" >&2
fi

bridged= events= bridged_events=
if [ -n "$TALLY" ]; then
	bridged=$(timed bridged ansible_run "$TALLY" run --engine ansible) || bridged=
	events=$(timed events events_run) || events=
	bridged_events=$(timed bridged-events events_run "$TALLY" run --engine ansible) || bridged_events=
fi

printf '%-18s %s\n' "sshfloor" "${floor:-n/a}s" "ansible-playbook" "${ansible:-n/a}s" "tally" "${tally:-n/a}s" \
	"ansible + bridge" "${bridged:-n/a}s" "ansible, events" "${events:-n/a}s" "  + bridge" "${bridged_events:-n/a}s" \
	"tally, built-in" "${plain:-n/a}s" "  + 4 plugins" "${plugged:-n/a}s" "plugins list" "${listed:-n/a}s"
ratio "ansible / tally" "$ansible" "$tally" "target >= 10x"
ratio "tally / floor" "$tally" "$floor" "target <= 2x"
ratio "ansible / floor" "$ansible" "$floor" "for reference"
ratio "bridge, SSH" "$bridged" "$ansible" "target <= 1.05x" 3
ratio "bridge, events" "$bridged_events" "$events" "target <= 1.05x" 3
ratio "4 plugins / none" "$plugged" "$plain" "target <= 1.10x" 3
[ -n "$listed" ] && awk -v t="$listed" 'BEGIN { printf "%-18s %.0f ms (target < 50 ms)\n", "plugins list", t * 1000 }'
exit 0
