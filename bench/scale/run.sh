#!/usr/bin/env bash
# Scale benchmark: HOSTS inventory hosts (default 1,000) x the ten tasks of playbook.yml, each
# host its own SSH connection, in two labs on this machine:
#   one     every host is 127.0.0.1, one sshd (MaxStartups and MaxSessions raised);
#   spread  host i is 127.0.1.1 + i (127.0.1.1 to 127.0.4.232 for 1,000), one sshd for each
#           block of 16 addresses (sshd's limit of listen addresses), all on one port.
# It measures, for each of FORKS (default "50 200"): tally (default stdout plugin, summary and
# jsonl enabled, warm plugin cache) and cmd/sshfloor (the same commands bare, as many at once)
# on the one lab, and at the last of FORKS on the spread lab; tally's forks curve (CURVE,
# default "10 50 200 500") on the one lab; and ansible-playbook (pipelining, -f ANSIBLE_FORKS,
# default 50) against tally on the first ANSIBLE_HOSTS hosts (default 200; 0 leaves it out).
# For each run: the wall time (median of RUNS, default 1), the peak RSS and the most open file
# descriptors (polled every 0.1 s); for tally's runs, that every event came exactly once (the
# jsonl plugin's file and --artifacts' events.jsonl against the playbook's expected counts)
# and that no callback's queue stayed full for a second (the collector says so on stderr).
# Needs root (it starts sshd and creates the login user) and openssh-server.
#
#   bench/scale/run.sh [HOSTS]   env: FORKS, CURVE, RUNS, ANSIBLE_HOSTS, ANSIBLE_FORKS, PLUGIN_TIMEOUT,
#                                CONNECT_TIMEOUT (seconds, default 10),
#                                TALLY=a tally binary (default: build bin/tally),
#                                PLUGINS=the bundled plugins (default: build/plugins)
BENCH=bench-scale
source "$(dirname "$0")/../lib.sh"

HOSTS=${1:-${HOSTS:-1000}}
FORKS=${FORKS-50 200}
CURVE=${CURVE-10 50 200 500}
RUNS=${RUNS:-1}
ANSIBLE_HOSTS=${ANSIBLE_HOSTS:-200}
ANSIBLE_FORKS=${ANSIBLE_FORKS:-50}
PLUGINS=${PLUGINS:-$ROOT/build/plugins}
PLAYBOOK=$ROOT/bench/scale/playbook.yml
[ "$HOSTS" -ge 1 ] && [ "$HOSTS" -le 60000 ] || die "HOSTS=$HOSTS: between 1 and 60000"
[ -f "$PLUGINS/default.wasm" ] || die "no $PLUGINS/default.wasm: make plugins"
[ "$ANSIBLE_HOSTS" -le "$HOSTS" ] || ANSIBLE_HOSTS=$HOSTS

# Every handshake of a run may be pending at once: room for all of them.
STARTUPS=$((HOSTS + 100))
PORT=$(free_port)
start_sshd one "$PORT" "$STARTUPS" 127.0.0.1
# spread_addr I: the address of host I (0-based) in the spread lab.
spread_addr() { local v=$(((127 << 24) + (1 << 8) + 1 + $1)); echo "$((v >> 24)).$((v >> 16 & 255)).$((v >> 8 & 255)).$((v & 255))"; }
addrs=()
for i in $(seq 0 $((HOSTS - 1))); do
	addrs+=("$(spread_addr "$i")")
	if [ ${#addrs[@]} = 16 ] || [ "$i" = $((HOSTS - 1)) ]; then
		start_sshd "spread$((i / 16))" "$PORT" 100 "${addrs[@]}"
		addrs=()
	fi
done

# inventory FILE N [spread]: the first N hosts, on 127.0.0.1 or spread.
inventory() {
	{
		echo "[bench]"
		for i in $(seq "$2"); do
			printf 'h%03d' "$i"
			[ -n "${3:-}" ] && printf ' ansible_host=%s' "$(spread_addr $((i - 1)))"
			echo
		done
		echo "[bench:vars]"
		[ -n "${3:-}" ] || echo "ansible_host=127.0.0.1"
		inventory_vars "$PORT"
	} > "$1"
}
inventory "$WORK/one.ini" "$HOSTS"
inventory "$WORK/spread.ini" "$HOSTS" spread
inventory "$WORK/ansible.ini" "$ANSIBLE_HOSTS"

build_tools
[ -n "$TALLY" ] || die "tally does not build"
export XDG_CACHE_HOME=$WORK/cache
"$TALLY" plugins warm --callback-path "$PLUGINS" >/dev/null
# A plugin call's time limit is wall time (5 s by default): on a loaded controller a batch of
# events waits for the CPU behind 1,000 connections' work and can overrun it (measured: jsonl
# disabled at 1,000 hosts, load average 30-70). PLUGIN_TIMEOUT raises it, as an operator
# would (callback_limits in the configuration file); "" keeps the default.
PLUGIN_TIMEOUT=${PLUGIN_TIMEOUT-60s}
# The connect timeout (tally -T): at -f 200 and a load average of 60, handshakes with this
# machine's own sshd took more than the default 10 s.
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-10}
if [ -n "$PLUGIN_TIMEOUT" ]; then
	printf 'callback_limits:\n  timeout: %s\n' "$PLUGIN_TIMEOUT" > "$WORK/tally.yml"
	export TALLY_CONFIG=$WORK/tally.yml
fi

# measure LABEL CMD...: runs CMD RUNS times, each on fresh host directories ($WORK/hosts), and
# prints "WALL RSS FDS": the median wall time in seconds, the largest peak RSS in MB and the
# most file descriptors open at once. CMD's output is in $WORK/LABEL.out and .err.
measure() {
	local label=$1; shift
	local walls=() rss=0 fds=0 run start end tp cp f r rc=0
	for run in $(seq "$RUNS"); do
		rm -rf "$WORK/hosts" "$WORK/out" "$WORK/artifacts"
		install -d -o "$USER_NAME" "$WORK/hosts"
		mkdir -p "$WORK/out" "$WORK/artifacts"
		start=$(date +%s.%N)
		/usr/bin/time -f %M -o "$WORK/$label.rss" "$@" > "$WORK/$label.out" 2> "$WORK/$label.err" &
		tp=$! cp=
		while kill -0 "$tp" 2>/dev/null; do
			[ -n "$cp" ] || cp=$(pgrep -P "$tp" || true)
			if [ -n "$cp" ]; then
				f=(/proc/"$cp"/fd/*)
				[ -e "${f[0]}" ] && [ ${#f[@]} -gt "$fds" ] && fds=${#f[@]}
			fi
			sleep 0.1
		done
		# A failed run (a host unreachable) still has its figures: the row says so.
		wait "$tp" || rc=$?
		end=$(date +%s.%N)
		walls+=("$(awk "BEGIN { print $end - $start }")")
		r=$(tail -1 "$WORK/$label.rss" | tr -dc 0-9)
		[ "$r" -gt "$rss" ] && rss=$r
	done
	printf '%s\n' "${walls[@]}" | sort -n | awk -v rss="$rss" -v fds="$fds" '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f %.0f %d\n", m, rss / 1024, fds }'
	if [ "$rc" != 0 ]; then
		echo "$BENCH: $label exited with $rc:" >&2
		grep -E 'UNREACHABLE|fatal|WARNING|ERROR' "$WORK/$label.out" "$WORK/$label.err" | head -5 >&2
	fi
}

# The commands measured, each set into CMD (measure runs it under /usr/bin/time).
# tally_cmd INVENTORY FORKS: the playbook by tally with the default, summary and jsonl plugins
# and --artifacts.
tally_cmd() {
	CMD=("$TALLY" run --callback-path "$PLUGINS" --callbacks summary,jsonl \
		--callback-opt "summary.dir=$WORK/out" --callback-opt "jsonl.dir=$WORK/out" --artifacts "$WORK/artifacts" \
		-T "$CONNECT_TIMEOUT" -i "$1" -f "$2" -e "base=$WORK/hosts" "$PLAYBOOK")
}

# check_events LABEL N: that the last run of LABEL on N hosts delivered every event once, to the
# jsonl plugin as to --artifacts, and that no callback's queue held the run back. Prints a word.
check_events() {
	/usr/bin/python3 - "$WORK/out" "$WORK/artifacts" "$2" <<'PY' || return 1
import collections, glob, json, sys
out, art, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def load(pattern):
    files = glob.glob(pattern)
    if len(files) != 1:
        sys.exit(f"{pattern}: {len(files)} files, want 1")
    with open(files[0]) as f:
        return [json.loads(l) for l in f]
plugin, host = load(out + "/*.jsonl"), load(art + "/*/events.jsonl")
for name, evs in (("jsonl", plugin), ("artifacts", host)):
    seqs = [e["seq"] for e in evs]
    if seqs != list(range(1, len(seqs) + 1)):
        sys.exit(f"{name}: seqs not 1..{len(seqs)} each once")
if [(e["seq"], e["event"], e.get("uuid")) for e in plugin] != [(e["seq"], e["event"], e.get("uuid")) for e in host]:
    sys.exit("the jsonl plugin's events differ from --artifacts'")
count = collections.Counter(e["event"] for e in host)
# 9 tasks and the handler on every host, the loop's 3 items, the copy's notification; once:
# the run's start, the play's, 9 task starts, the handler's, the stats.
want = {"runner_on_start": 10 * n, "runner_on_ok": 10 * n, "runner_item_on_ok": 3 * n, "playbook_on_notify": n,
        "playbook_on_start": 1, "playbook_on_play_start": 1, "playbook_on_task_start": 9,
        "playbook_on_handler_task_start": 1, "playbook_on_stats": 1}
bad = {k: (count.get(k, 0), v) for k, v in want.items() if count.get(k, 0) != v}
if bad:
    sys.exit(f"event counts (got, want): {bad}; all: {dict(count)}")
print(len(host))
PY
	if grep -q "held the run back" "$WORK/$1.err"; then
		grep "held the run back" "$WORK/$1.err" >&2
		echo "queue-full"
	fi
}

# floor_cmd ADDRESS FORKS [spread]
floor_cmd() {
	CMD=("$WORK/sshfloor" -tasks scale -dir "$WORK/hosts" -addr "$1:$PORT" ${3:+-spread} -user "$USER_NAME"
		-key "$WORK/id_ed25519" -known-hosts "$WORK/known_hosts" -n "$HOSTS" -f "$2")
}

# ansible_cmd: its ControlPath directory a fresh one (RUNS=1: no run reuses another's master
# connections).
ansible_cmd() {
	CMD=(env ANSIBLE_SSH_CONTROL_PATH_DIR="$(mktemp -d "$WORK/cp.XXXXXX")" ANSIBLE_PIPELINING=True
		ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_RETRY_FILES_ENABLED=False
		ansible-playbook -i "$WORK/ansible.ini" -f "$ANSIBLE_FORKS" -e "base=$WORK/hosts" "$PLAYBOOK")
}

# row LABEL TOOL FIGURES [EVENTS]: one line of the table.
row() { printf '%-28s %-9s %8ss %6s MB %6s fds  %s\n' "$1" "$2" $3 "${4:-}"; }

echo "$BENCH: $HOSTS hosts x 10 tasks, $RUNS run(s) each, plugin time limit ${PLUGIN_TIMEOUT:-5s (default)}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %-9s %9s %9s %10s  %s\n' "run" "tool" "wall" "peak RSS" "open fds" "events"
declare -A wall
last=${FORKS##* }
for f in $FORKS; do
	for lab in one spread; do
		[ "$lab" = one ] || [ "$f" = "$last" ] || continue
		addr=127.0.0.1 spread=
		[ "$lab" = one ] || addr=$(spread_addr 0) spread=1
		floor_cmd "$addr" "$f" "$spread"
		if m=$(measure "floor-$lab-$f" "${CMD[@]}"); then
			row "$HOSTS hosts, $lab, -f $f" sshfloor "$m"
			wall[floor-$lab-$f]=${m%% *}
		fi
		tally_cmd "$WORK/$lab.ini" "$f"
		if m=$(measure "tally-$lab-$f" "${CMD[@]}"); then
			row "$HOSTS hosts, $lab, -f $f" tally "$m" "$(check_events "tally-$lab-$f" "$HOSTS" | tr '\n' ' ' || echo WRONG)"
			wall[tally-$lab-$f]=${m%% *}
		fi
		ratio "  tally / floor" "${wall[tally-$lab-$f]:-}" "${wall[floor-$lab-$f]:-}" "target <= 1.5x" 2
	done
done
for f in $CURVE; do
	[ -z "${wall[tally-one-$f]:-}" ] || continue
	tally_cmd "$WORK/one.ini" "$f"
	if m=$(measure "tally-one-$f" "${CMD[@]}"); then
		row "$HOSTS hosts, one, -f $f" tally "$m" "$(check_events "tally-one-$f" "$HOSTS" | tr '\n' ' ' || echo WRONG)"
		wall[tally-one-$f]=${m%% *}
	fi
done
echo "forks curve (tally, one lab): $(for f in $CURVE; do printf -- '-f %s %ss  ' "$f" "${wall[tally-one-$f]:-n/a}"; done)"
if [ "$ANSIBLE_HOSTS" -gt 0 ]; then
	ansible_cmd
	if m=$(measure ansible "${CMD[@]}"); then
		row "$ANSIBLE_HOSTS hosts, one, -f $ANSIBLE_FORKS" ansible "$m"
		wall[ansible]=${m%% *}
	fi
	tally_cmd "$WORK/ansible.ini" "$ANSIBLE_FORKS"
	if m=$(measure tally-ansible "${CMD[@]}"); then
		row "$ANSIBLE_HOSTS hosts, one, -f $ANSIBLE_FORKS" tally "$m" "$(check_events tally-ansible "$ANSIBLE_HOSTS" | tr '\n' ' ' || echo WRONG)"
		wall[tally-ansible]=${m%% *}
	fi
	ratio "  ansible / tally" "${wall[ansible]:-}" "${wall[tally-ansible]:-}" "for reference"
fi
echo "$BENCH: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
