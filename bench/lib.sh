# What the benchmarks over SSH share (sourced by bench/e2e/run.sh and bench/scale/run.sh): a
# temporary directory removed at exit, the login user, keys, sshd on loopback addresses, and
# timing. The sourcing script sets BENCH (its name in messages) first.
set -euo pipefail

USER_NAME=tallytest # the account package sshtest logs in as
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SSHD=/usr/sbin/sshd

die() { echo "$BENCH: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root: it starts sshd and creates the user $USER_NAME"
[ -x "$SSHD" ] || die "$SSHD is missing: apt-get install -y openssh-server"
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin

WORK=$(mktemp -d /tmp/tally-bench.XXXXXX)
chmod 755 "$WORK" # sshd reads authorized_keys as the login user
SSHD_PIDS=()
AT_EXIT=() # commands the sourcing script adds, run first at exit
cleanup() {
	set +e
	local c pid
	for c in "${AT_EXIT[@]}"; do eval "$c"; done
	# ansible-playbook's master connections outlive it (ControlPersist): end them.
	for sock in "$WORK"/cp.*/*; do
		[ -S "$sock" ] && ssh -o ControlPath="$sock" -O exit bench >/dev/null 2>&1
	done
	for pid in "${SSHD_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${SSHD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

id "$USER_NAME" >/dev/null 2>&1 || useradd -m -s /bin/sh "$USER_NAME"
usermod -p '*' "$USER_NAME" # no password, yet not locked: key logins work

ssh-keygen -q -t ed25519 -N '' -f "$WORK/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id_ed25519"
cp "$WORK/id_ed25519.pub" "$WORK/authorized_keys"
: > "$WORK/known_hosts"
mkdir -p /run/sshd

# free_port: a TCP port free on loopback now.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_sshd NAME PORT MAXSTARTUPS ADDRESS...: an sshd listening on PORT of each ADDRESS (at
# most 16, sshd's limit), its host key in known_hosts for each; waits until the first answers.
start_sshd() {
	local name=$1 port=$2 startups=$3 a
	shift 3
	{
		echo "Port $port"
		for a in "$@"; do echo "ListenAddress $a"; done
		cat <<CFG
HostKey $WORK/host_key
PidFile $WORK/$name.pid
AuthorizedKeysFile $WORK/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin no
PasswordAuthentication no
MaxStartups $startups
MaxSessions 100
UseDNS no
PrintMotd no
Subsystem sftp internal-sftp
CFG
	} > "$WORK/$name.config"
	"$SSHD" -D -f "$WORK/$name.config" -E "$WORK/$name.log" &
	SSHD_PIDS+=($!)
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/$1/$port") 2>/dev/null && break
		sleep 0.05
	done
	for a in "$@"; do echo "[$a]:$port $(cut -d' ' -f1,2 "$WORK/host_key.pub")"; done >> "$WORK/known_hosts"
}

# inventory_vars PORT: the [group:vars] lines every host of a benchmark's inventory shares.
inventory_vars() {
	echo "ansible_port=$1"
	echo "ansible_user=$USER_NAME"
	echo "ansible_ssh_private_key_file=$WORK/id_ed25519"
	echo "ansible_ssh_common_args='-o UserKnownHostsFile=$WORK/known_hosts'"
	echo "ansible_python_interpreter=/usr/bin/python3"
}

# build_tools: $WORK/sshfloor, and TALLY (a tally binary; built into bin/tally when unset, empty
# when it does not build).
build_tools() {
	(cd "$ROOT" && go build -o "$WORK/sshfloor" ./cmd/sshfloor)
	if [ -z "${TALLY:-}" ]; then
		TALLY=$ROOT/bin/tally
		(cd "$ROOT" && go build -o "$TALLY" ./cmd/tally) || { echo "$BENCH: tally does not build: measuring the others" >&2; TALLY=; }
	fi
}

# timed LABEL CMD...: runs CMD once to warm up, then RUNS times, and prints the median time
# in seconds; a failing run stops the tool's measurement. Its output is in $WORK/LABEL.out.
timed() {
	local label=$1; shift
	local times=() run start end
	for run in $(seq 0 "$RUNS"); do
		start=$(date +%s.%N)
		if ! "$@" > "$WORK/$label.out" 2>&1; then
			echo "$BENCH: $label failed:" >&2
			tail -20 "$WORK/$label.out" >&2
			return 1
		fi
		end=$(date +%s.%N)
		[ "$run" = 0 ] || times+=("$(awk "BEGIN { print $end - $start }")")
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.3f\n", m }'
}

# ratio LABEL A B NOTE [DIGITS]: A / B, when both are known.
ratio() { [ -n "$2" ] && [ -n "$3" ] && awk -v a="$2" -v b="$3" -v l="$1" -v n="$4" -v p="${5:-1}" 'BEGIN { printf "%-18s %." p "fx (%s)\n", l, a / b, n }'; return 0; }
