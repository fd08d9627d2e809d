#!/usr/bin/env bash
# Network partitions of a 4-validator cluster of real isthmusd processes, each
# in its own network namespace (suite integration, TAP). Needs root and
# `ip netns`; anywhere else it prints "1..0 # SKIP <reason>" and passes.
#
# The network, private to this run (the names carry $$): five namespaces,
# isthmus-br-PID with two bridges br0 and br1 and no address, and
# isthmus-nI-PID (I = 0..3), each with one end of a veth pair, eth0 at
# 10.77.0.(I+1)/24, whose other end pI is a port of br0. Nothing touches the
# host's interfaces, routes or firewall, and no namespace has a route out of
# 10.77.0.0/24. `isthmus testnet --hosts` makes node I listen (peer to peer
# and API) on its namespace's address; each isthmusd runs in its namespace
# (`ip netns exec`) and so does every curl to its API.
#
# A partition moves bridge ports from br0 to br1 (`ip link set pI master
# br1`): the two groups share no link layer, and frames between them are lost
# silently, as in a real partition (no reset, no unreachable). Healing moves
# them back. TCP then resumes with its retransmission backoff, which is why
# healing takes seconds.
#
# Checks: all four commit and agree; with the partition 2|2 neither side has
# a quorum (3 of 4 equal stakes are needed), so commits stop on both sides
# and no node has a block that differs from another's; healed, commits resume
# and every node has the same chain; with the partition 3|1 the three go on
# committing and the isolated node does not; healed, it catches up to the
# same chain.
#
# "Commits stop" without a timing assertion: once the partition is in place
# (checked: a connection across it fails) we record every node's height,
# then wait for events, not for time: until every node has sent at least K
# more timeout messages (isthmus_timeouts_total; a node stuck in a view
# re-sends its timeout each timer period), which shows it had every chance
# to commit and could not. Then no node may be more than SLACK = 2 above the
# highest height recorded. Why 2: a QC needs 3 of the 4 votes, so in a 2|2
# split one of them from across the split, which only a proposal that crossed
# before the partition can get: the highest block that can still be
# certified is the last one proposed before it, at some height b, and
# two-chain commits (a certified child in the next view) make final at most
# b - 1. Its proposer held QC(b-1); when b-1's justify was QC(b-2) of the
# view just before (the normal case with every node up), that proposer had
# committed b - 2 already, so the recorded maximum is at least b - 2 and no
# node ends above it + 1. The second block of slack is for one view that
# failed just before the partition (b-1 then justified by an older QC: the
# proposer may have committed only b - 3). In 3|1 the lone node receives
# nothing, so it can only finish what it already had.
#
# Waiting is polling with a bound (WAIT_S seconds per condition), never a
# fixed sleep as synchronisation. Every process, namespace and link goes
# whatever happens (an EXIT trap); on failure the tail of each node's log is
# printed as TAP comments. Only a SIGKILL of this script can leave the
# namespaces: `ip netns list | grep isthmus-` finds them, `ip netns del` ends
# them.
TEST_NAME=partition
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

DBIN=${ISTHMUSD_BIN:?ISTHMUSD_BIN must point to the isthmusd binary}
WAIT_S=${ISTHMUS_TEST_WAIT_S:-60}
N=4
K=3                         # timeouts every node must send while partitioned
SLACK=2                     # blocks in flight at the partition (see above)
SUBNET=10.77.0
BASE=26600                  # each node has its own address: no port can clash
NSB="isthmus-br-$$"
declare -a NS=() IP=() PIDS=() MADE=()
for i in $(seq 0 $((N - 1))); do
	NS[i]="isthmus-n$i-$$"
	IP[i]="$SUBNET.$((i + 1))"
done
: >"$T/err"                 # lib.sh's not_ok shows it; we run no `run`

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null
	done
	if [ "${failed:-0}" -ne 0 ] && [ -d "$T" ]; then
		for p in "$T"/node*.log; do
			[ -f "$p" ] && tail -n 15 "$p" | sed "s|^|# $(basename "$p"): |"
		done
	fi
	# deleting a namespace deletes the links in it; each veth pair goes
	# with either of its ends
	for p in "${MADE[@]}"; do
		ip netns del "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
bail() { echo "Bail out! $*"; failed=1; echo "1..$n"; exit 1; }

# ---- the network, or a clear skip --------------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip_all "needs root to make network namespaces (run as root to test partitions)"
command -v ip >/dev/null 2>&1 || skip_all "needs ip (iproute2) for network namespaces"
command -v curl >/dev/null 2>&1 || skip_all "needs curl to ask the nodes"
if ! out=$(ip netns add "$NSB" 2>&1); then
	skip_all "ip netns add failed (no network namespaces here?): $out"
fi
MADE+=("$NSB")
out=$(ip netns exec "$NSB" true 2>&1) || skip_all "ip netns exec does not work here: $out"
if ! out=$( { ip -n "$NSB" link set lo up &&
	ip -n "$NSB" link add br0 type bridge &&
	ip -n "$NSB" link add br1 type bridge &&
	ip -n "$NSB" link set br0 up && ip -n "$NSB" link set br1 up; } 2>&1); then
	skip_all "cannot make a bridge in a network namespace: $out"
fi
for i in $(seq 0 $((N - 1))); do
	out=$(ip netns add "${NS[i]}" 2>&1) || skip_all "ip netns add ${NS[i]} failed: $out"
	MADE+=("${NS[i]}")
	# both ends are made in their namespaces directly: never on the host
	out=$( { ip link add eth0 netns "${NS[i]}" type veth peer name "p$i" netns "$NSB" &&
		ip -n "$NSB" link set "p$i" master br0 && ip -n "$NSB" link set "p$i" up &&
		ip -n "${NS[i]}" link set lo up &&
		ip -n "${NS[i]}" addr add "${IP[i]}/24" dev eth0 &&
		ip -n "${NS[i]}" link set eth0 up; } 2>&1) || skip_all "cannot make a veth pair between namespaces: $out"
done

# in_ns I CMD...: CMD in node I's namespace
in_ns() { local i=$1; shift; ip netns exec "${NS[i]}" "$@"; }

# island I...: moves the bridge ports of nodes I... to br1, the others stay
# on br0; island with no argument heals (every port on br0).
island() {
	local i to
	for i in $(seq 0 $((N - 1))); do
		to=br0
		case " $* " in *" $i "*) to=br1 ;; esac
		ip -n "$NSB" link set "p$i" master "$to" || return 1
	done
}

# ---- the testnet --------------------------------------------------------------------------

hosts=$(IFS=,; echo "${IP[*]}")
if "$BIN" testnet --validators $N --output "$T/net" --base-port $BASE --hosts "$hosts" --kdf-fast \
	>"$T/testnet.out" 2>&1 </dev/null; then
	ok "isthmus testnet --hosts $hosts makes $N homes"
else
	bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"
fi
api() { echo "http://${IP[$1]}:$((BASE + 100 + $1))"; }

start() {
	ip netns exec "${NS[$1]}" "$DBIN" --home "$T/net/node$1" >>"$T/node$1.log" 2>&1 </dev/null &
	PIDS[$1]=$!
}

# status_field I FIELD: a number from node I's /v1/status, or -1
status_field() {
	local v
	v=$(in_ns "$1" curl -s --max-time 2 "$(api "$1")/v1/status" 2>/dev/null | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p")
	case "$v" in ''|*[!0-9]*) echo -1 ;; *) echo "$v" ;; esac
}
height() { status_field "$1" height; }

# block_id I H: the id of node I's committed block at height H, or nothing
block_id() {
	in_ns "$1" curl -s --max-time 2 "$(api "$1")/v1/blocks/$2" 2>/dev/null |
		sed -n 's/^{"id":"\([0-9a-f]\{64\}\)".*/\1/p'
}

# timeouts I: node I's isthmus_timeouts_total, or -1
timeouts() {
	in_ns "$1" curl -s --max-time 2 "$(api "$1")/metrics" 2>/dev/null |
		awk '$1 == "isthmus_timeouts_total" { v = $2 } END { print (v == "" ? -1 : v + 0) }'
}

heights() { local i; for i in "$@"; do printf '%s ' "$(height "$i")"; done; }
max_height() {
	local i h top=-1
	for i in "$@"; do h=$(height "$i"); [ "$h" -gt "$top" ] && top=$h; done
	echo "$top"
}
min_height() {
	local i h low=
	for i in "$@"; do h=$(height "$i"); [ -z "$low" ] || [ "$h" -lt "$low" ] && low=$h; done
	echo "$low"
}

alive() { [ -n "${PIDS[$1]:-}" ] && kill -0 "${PIDS[$1]}" 2>/dev/null; }

# wait_heights MIN NODES...: until every node listed reports height >= MIN
# (false at once when one of them has exited)
wait_heights() {
	local min=$1
	shift
	local deadline=$((SECONDS + WAIT_S)) i all
	while [ $SECONDS -lt $deadline ]; do
		all=1
		for i in "$@"; do
			alive "$i" || return 1
			if [ "$(height "$i")" -lt "$min" ]; then all=0; break; fi
		done
		[ $all -eq 1 ] && return 0
		sleep 0.2
	done
	return 1
}

# wait_timeouts NODES...: until each node listed has sent K timeouts more
# than TO0[node] (set by the caller)
wait_timeouts() {
	local deadline=$((SECONDS + WAIT_S)) i all
	while [ $SECONDS -lt $deadline ]; do
		all=1
		for i in "$@"; do
			alive "$i" || return 1
			if [ "$(timeouts "$i")" -lt $((TO0[i] + K)) ]; then all=0; break; fi
		done
		[ $all -eq 1 ] && return 0
		sleep 0.2
	done
	return 1
}

# same_chain FROM TO NODES...: for each height FROM..TO, every node listed
# that has a block there has the same one. Prints the first difference.
same_chain() {
	local from=$1 to=$2
	shift 2
	local h i id ref
	for h in $(seq "$from" "$to"); do
		ref=
		for i in "$@"; do
			id=$(block_id "$i" "$h")
			[ -z "$id" ] && continue
			if [ -z "$ref" ]; then
				ref=$id
			elif [ "$id" != "$ref" ]; then
				echo "height $h: node$i has $id, another node $ref"
				return 1
			fi
		done
	done
}

# reach I J: whether node I reaches node J's API (a 1 s connect bound: this
# is only a check that the partition is in place, and a failure is expected)
reach() { in_ns "$1" curl -s -o /dev/null --connect-timeout 1 --max-time 2 "$(api "$2")/healthz"; }

ALL=$(seq 0 $((N - 1)))
for i in $ALL; do start "$i"; done

# ---- all four commit and agree --------------------------------------------------------------

# shellcheck disable=SC2086
if wait_heights 5 $ALL; then
	ok "all $N nodes, each in its namespace, commit to height 5"
else
	not_ok "all $N nodes commit to height 5" "heights: $(heights $ALL)"
	bail "the cluster does not commit"
fi
# shellcheck disable=SC2086
if d=$(same_chain 1 5 $ALL) && [ -n "$(block_id 3 5)" ]; then
	ok "blocks 1..5 are the same on all $N nodes"
else
	not_ok "blocks 1..5 are the same on all $N nodes" "$d"
fi

# partition_stops DESC NODES...: after a partition, commits stop on NODES
# (recorded heights, then K timeouts each, then at most SLACK above).
partition_stops() {
	local desc=$1 i h top=-1 bad=
	shift
	declare -ga TO0=() H0=()
	for i in "$@"; do
		H0[i]=$(height "$i")
		TO0[i]=$(timeouts "$i")
		[ "${H0[i]}" -gt "$top" ] && top=${H0[i]}
	done
	if ! wait_timeouts "$@"; then
		not_ok "$desc" "not every node sent $K timeouts: $(for i in "$@"; do printf 'node%s %s->%s ' "$i" "${TO0[i]}" "$(timeouts "$i")"; done)"
		return 1
	fi
	for i in "$@"; do
		h=$(height "$i")
		[ "$h" -ge 0 ] && [ "$h" -le $((top + SLACK)) ] || bad="$bad node$i:${H0[i]}->$h"
	done
	if [ -z "$bad" ]; then
		ok "$desc (heights $(for i in "$@"; do printf '%s ' "${H0[i]}"; done)then $K timeouts each: $(heights "$@")none above $((top + SLACK)))"
	else
		not_ok "$desc" "above $top + $SLACK:$bad"
	fi
}

# ---- 2|2: no quorum on either side ---------------------------------------------------------

island 2 3 || bail "cannot move bridge ports"
if ! reach 0 2 && ! reach 3 1 && reach 0 1 && reach 3 2; then
	ok "partition 2|2 in place: {0,1} and {2,3} reach each other only within their side"
else
	not_ok "partition 2|2 in place"
fi
# shellcheck disable=SC2086
partition_stops "partition 2|2: commits stop on both sides" $ALL
top=$(max_height $ALL)
# shellcheck disable=SC2086
if d=$(same_chain 1 "$top" $ALL); then
	ok "partition 2|2: no node has a block that differs from another's (heights 1..$top)"
else
	not_ok "partition 2|2: no fork" "$d"
fi

island
# shellcheck disable=SC2086
if wait_heights $((top + 5)) $ALL; then
	ok "healed 2|2: commits resume on all $N nodes (past height $((top + 5)))"
else
	not_ok "healed 2|2: commits resume on all $N nodes" "heights: $(heights $ALL), before $top"
fi
# shellcheck disable=SC2086
low=$(min_height $ALL)
# shellcheck disable=SC2086
if [ "$low" -gt 0 ] && d=$(same_chain 1 "$low" $ALL) && [ -n "$(block_id 0 "$low")" ]; then
	ok "healed 2|2: all $N nodes have the same chain (heights 1..$low)"
else
	not_ok "healed 2|2: all $N nodes have the same chain" "${d:-height $low}"
fi

# ---- 3|1: the three go on, the one stops -----------------------------------------------------

lone=3
three="0 1 2"
island $lone || bail "cannot move bridge ports"
if ! reach $lone 0 && reach 2 0; then
	ok "partition 3|1 in place: node$lone reaches nobody"
else
	not_ok "partition 3|1 in place"
fi
# shellcheck disable=SC2086
top3=$(max_height $three)
declare -a TO0=()
h_lone=$(height $lone)
TO0[lone]=$(timeouts $lone)
# shellcheck disable=SC2086
if wait_heights $((top3 + 6)) $three; then
	ok "partition 3|1: nodes $three keep committing (past height $((top3 + 6)))"
else
	not_ok "partition 3|1: nodes $three keep committing" "heights: $(heights $three), at the partition $top3"
fi
if wait_timeouts $lone; then
	h=$(height $lone)
	if [ "$h" -ge 0 ] && [ "$h" -le $((h_lone + SLACK)) ]; then
		ok "partition 3|1: node$lone alone does not commit (height $h_lone, then $K timeouts, now $h)"
	else
		not_ok "partition 3|1: node$lone alone does not commit" "height $h_lone -> $h"
	fi
else
	not_ok "partition 3|1: node$lone times out" "timeouts ${TO0[lone]} -> $(timeouts $lone)"
fi

island
# shellcheck disable=SC2086
target=$(max_height $three)
if wait_heights "$target" $lone; then
	a=$(block_id 0 "$target")
	b=$(block_id $lone "$target")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		ok "healed 3|1: node$lone catches up to height $target, the same block as node0"
	else
		not_ok "healed 3|1: node$lone has the same block at height $target as node0" "node0 $a, node$lone $b"
	fi
else
	not_ok "healed 3|1: node$lone catches up" "height $(height $lone), the others at $target"
fi
# shellcheck disable=SC2086
if wait_heights $((target + 3)) $ALL && d=$(same_chain 1 $((target + 3)) $ALL); then
	ok "healed 3|1: all $N nodes commit together and have the same chain (heights 1..$((target + 3)))"
else
	not_ok "healed 3|1: all $N nodes commit together and have the same chain" "${d:-heights: $(heights $ALL)}"
fi

# SIGTERM: every node, through both partitions, still stops cleanly (under
# the sanitizers a report would make the status non-zero)
for i in $ALL; do
	if ! alive "$i"; then
		not_ok "node$i exits 0 on SIGTERM" "it is not running any more"
		continue
	fi
	pid=${PIDS[i]}
	kill -TERM "$pid"
	deadline=$((SECONDS + WAIT_S))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		not_ok "node$i exits 0 on SIGTERM" "still running after $WAIT_S s"
		continue       # the EXIT trap kills it
	fi
	wait "$pid"
	rc=$?
	PIDS[i]=
	if [ $rc -eq 0 ]; then ok "node$i exits 0 on SIGTERM"; else not_ok "node$i exits 0 on SIGTERM" "status $rc"; fi
done

finish
