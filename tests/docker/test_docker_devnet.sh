#!/usr/bin/env bash
# docker-devnet: deploy/docker-compose.yml on the Docker engine (suite docker).
#
# Builds the images (tools/docker-base first, then `compose build`: the
# image of deploy/Dockerfile and the Prometheus image), brings the whole
# devnet up under a project of its own (isthmus-test-<pid>, its own images,
# network and volumes), and checks what a user of the compose file relies on:
#
#   - the one-shot testnet service made the homes and exited 0, the four
#     validators commit and agree, every container turns healthy
#     (HEALTHCHECK), Prometheus scrapes all seven targets;
#   - messages sent with `compose run send` (as the README says) both ways
#     are delivered: the destination inbox (the devchain's HTTP API) holds
#     each one with its message id;
#   - `docker kill` of a validator, then `docker start` on the same volume,
#     loses nothing: its committed height never goes back, the deliveries it
#     served are still there, and it catches up with the others;
#   - `docker network disconnect` of two of the four validators stops
#     commits everywhere (no quorum), with no fork; reconnected, commits
#     resume on all four on one chain, and new messages are delivered.
#
# Nothing asserts on timing. Waiting is polling with a bound (WAIT_S seconds
# per condition); "commits stop" is shown by events, not by time: every node
# sends K more timeouts (isthmus_timeouts_total) and none ends more than
# SLACK blocks above the highest height recorded once both are cut off (the
# argument for SLACK = 2 is in tests/node/test_node_partition.sh).
#
# Every API is asked from inside the containers (docker exec ... curl on
# their loopback), so the test uses no network but the project's own and
# loopback; Prometheus is published on a random loopback port. The network
# gets a free 10.213.X.0/24 subnet through an override file, so that the
# validators cut off come back with their own addresses (why: below). An EXIT trap
# always runs `compose down -v` (containers, network, volumes) and removes
# the project's image tags (their layers stay as build cache); after a
# failure it prints the tail of every service's log first.
#
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (no Docker
# engine answers, or no Compose). Environment: ISTHMUS_COMPOSE chooses the
# Compose command ("docker-compose", "docker compose"; default: whichever
# answers, v1 first); ISTHMUS_TEST_WAIT_S (default 120).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
file=$here/deploy/docker-compose.yml
WAIT_S=${ISTHMUS_TEST_WAIT_S:-120}
K=3         # timeouts every node must send while cut off
SLACK=2     # blocks in flight at the partition (tests/node/test_node_partition.sh)
MSGS=3      # messages each way, before the faults

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
	echo "SKIP: no Docker engine answers (docker info failed); the docker suite needs one"
	exit 77
fi
if [ -n "${ISTHMUS_COMPOSE:-}" ]; then
	read -r -a compose <<<"$ISTHMUS_COMPOSE"
elif command -v docker-compose >/dev/null 2>&1; then
	compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
	compose=(docker compose)
else
	echo "SKIP: neither docker-compose (v1) nor docker compose (v2) is installed"
	exit 77
fi

project=isthmus-test-$$
export ISTHMUS_IMAGE=isthmus-test:$project
export ISTHMUS_PROMETHEUS_IMAGE=isthmus-prometheus-test:$project
export ISTHMUS_PROMETHEUS_PUBLISH=127.0.0.1:   # a random port on loopback
export COMPOSE_PROJECT_NAME=$project
T=$(mktemp -d "${TMPDIR:-/tmp}/isthmus-docker.XXXXXX") || exit 1
C() { "${compose[@]}" -p "$project" -f "$file" -f "$T/subnet.yml" "$@"; }

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1 [${SECONDS} s]"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1 [${SECONDS} s]"
	shift
	local l
	for l in "$@"; do echo "# $l"; done
}
bail() { echo "Bail out! $*"; failed=$((failed + 1)); exit 1; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$failed" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo "# the last lines of every service's log:"
		C logs --no-color --tail 15 2>&1 | sed 's/^/# /'
	fi
	C down -v --remove-orphans --timeout 10 >/dev/null 2>&1 ||
		echo "# compose down failed: docker ps -a --filter label=com.docker.compose.project=$project"
	# the tags only: their layers stay as the build cache of the next run
	docker rmi --no-prune "$ISTHMUS_IMAGE" "$ISTHMUS_PROMETHEUS_IMAGE" >/dev/null 2>&1
	rm -rf "$T"
	echo "1..$n"
	if [ "$failed" -ne 0 ]; then
		echo "# $failed of $n checks failed"
		exit 1
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The project's network gets a subnet of its own (an override file; the
# compose file leaves the choice to Docker), so that `docker network connect
# --ip` can give the validators cut off below their addresses back. With a
# new address, a validator's TCP connections from its old one stay
# half-open, and today's transport keeps such a connection and refuses the
# peer's new ones (the tie-break of src/net/net.c conn_wins) until TCP gives
# up, many minutes later: that is a renumbered host, not the partition this
# test is about.
used=" $(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' $(docker network ls -q) 2>/dev/null | tr '\n' ' ') "
SUBNET=
for try in $(seq 0 49); do
	x=$((($$ + try * 37) % 250 + 1))
	case "$used" in *" 10.213.$x.0/24 "*) continue ;; esac
	ip -4 route 2>/dev/null | grep -q "^10\.213\.$x\." && continue
	SUBNET=10.213.$x.0/24
	break
done
[ -n "$SUBNET" ] || bail "no free subnet 10.213.X.0/24 for the project's network"
cat >"$T/subnet.yml" <<YML
networks:
  isthmus:
    ipam:
      config:
        - subnet: $SUBNET
YML

echo "# compose: ${compose[*]} ($("${compose[@]}" version 2>/dev/null | head -n 1)); project $project, subnet $SUBNET"

# ---- images and start -----------------------------------------------------------------------

"$here/tools/docker-base" | sed 's/^/# /'
[ "${PIPESTATUS[0]}" -eq 0 ] || bail "tools/docker-base could not make debian:bookworm-slim"
t0=$SECONDS
if C build >"$T/build.log" 2>&1; then
	ok "compose build: the isthmus and Prometheus images ($((SECONDS - t0)) s)"
else
	tail -n 30 "$T/build.log" | sed 's/^/# /'
	bail "compose build failed"
fi
if out=$(C up -d 2>&1); then
	ok "compose up -d"
else
	printf '%s\n' "$out" | tail -n 20 | sed 's/^/# /'
	bail "compose up failed"
fi

declare -A CID
for s in testnet chain1 chain2 node0 node1 node2 node3 relayer prometheus; do
	CID[$s]=$(C ps -a -q "$s" 2>/dev/null | head -n 1)
	[ -n "${CID[$s]}" ] || bail "no container for service $s"
done
NET=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "${CID[node0]}" | awk '{ print $1 }')
[ -n "$NET" ] || bail "node0 is on no network"

# ---- helpers: every request from inside a container, on its loopback -------------------------

# nexec I CMD...: run CMD in node I's container
nexec() { local i=$1; shift; docker exec "${CID[node$i]}" "$@"; }
napi() { echo "http://127.0.0.1:$((26700 + $1))"; }
# height I: node I's committed height, -1 when it does not answer
height() {
	local h
	h=$(nexec "$1" curl -s --max-time 2 "$(napi "$1")/v1/status" 2>/dev/null | sed -n 's/.*"height":\([0-9]*\).*/\1/p')
	case "$h" in ''|*[!0-9]*) echo -1 ;; *) echo "$h" ;; esac
}
heights() { local i; for i in "$@"; do printf 'node%s=%s ' "$i" "$(height "$i")"; done; }
max_height() { local i h m=-1; for i in "$@"; do h=$(height "$i"); [ "$h" -gt "$m" ] && m=$h; done; echo "$m"; }
min_height() {
	local i h m=
	for i in "$@"; do h=$(height "$i"); if [ -z "$m" ] || [ "$h" -lt "$m" ]; then m=$h; fi; done
	echo "$m"
}
timeouts() {
	nexec "$1" curl -s --max-time 2 "$(napi "$1")/metrics" 2>/dev/null |
		awk '$1 == "isthmus_timeouts_total" { v = $2 } END { print (v == "" ? -1 : v + 0) }'
}
# block_ids I FROM TO: "HEIGHT ID" per committed block of node I in FROM..TO
block_ids() {
	nexec "$1" sh -c 'h=$2; while [ "$h" -le "$3" ]; do
		printf "%s %s\n" "$h" "$(curl -s --max-time 2 "$1/v1/blocks/$h" | sed -n "s/^{\"id\":\"\([0-9a-f]\{64\}\)\".*/\1/p")"
		h=$((h + 1)); done' sh "$(napi "$1")" "$2" "$3" 2>/dev/null
}
# same_chain FROM TO NODES...: every node listed has a block at every height
# FROM..TO, the same on all. Prints the first difference.
same_chain() {
	local from=$1 to=$2 i ref= ids
	shift 2
	for i in "$@"; do
		ids=$(block_ids "$i" "$from" "$to")
		if printf '%s\n' "$ids" | grep -q ' $' || [ "$(printf '%s\n' "$ids" | grep -c .)" -ne $((to - from + 1)) ]; then
			echo "node$i lacks a block in $from..$to"
			return 1
		fi
		if [ -z "$ref" ]; then
			ref=$ids
		elif [ "$ids" != "$ref" ]; then
			diff <(printf '%s\n' "$ref") <(printf '%s\n' "$ids") | grep '^>' | head -n 1 | sed "s/^>/node$i differs at/"
			return 1
		fi
	done
}
# wait_heights MIN NODES...: until every node listed reports height >= MIN
wait_heights() {
	local min=$1 deadline=$((SECONDS + WAIT_S)) i all
	shift
	while [ $SECONDS -lt $deadline ]; do
		all=1
		for i in "$@"; do
			if [ "$(height "$i")" -lt "$min" ]; then all=0; break; fi
		done
		[ $all -eq 1 ] && return 0
		sleep 0.2
	done
	return 1
}
# chain_port K, inbox K SRC NONCE: the inbox record of message NONCE of SRC on chain K
chain_port() { echo $((26800 + $1 - 1)); }
inbox() { docker exec "${CID[chain$1]}" curl -s --max-time 2 "http://127.0.0.1:$(chain_port "$1")/v1/inbox/$2/$3" 2>/dev/null; }

# send SRC DST TEXT: `compose run send`, as the README shows; appends
# "SRC DST NONCE ID" to SENT
SENT=()
send() {
	local out
	if ! out=$(C run --rm -T send --rpc "http://chain$1:$(chain_port "$1")" --to "$2" --payload "$3" 2>"$T/send.err"); then
		sed 's/^/# send: /' "$T/send.err"
		return 1
	fi
	# "sent message N on route S->D: id HEX"
	set -- "$1" "$2" "$(printf '%s\n' "$out" | sed -n 's/^sent message \([0-9]*\) on route.*: id \([0-9a-f]\{64\}\)$/\1 \2/p')"
	[ -n "$3" ] || return 1
	SENT+=("$1 $2 $3")
}
# undelivered: prints the first message of SENT that is not in its
# destination's inbox with its id (status 0), or nothing (status 1) when
# every one is
undelivered() {
	local e src dst nonce id rec
	for e in "${SENT[@]}"; do
		read -r src dst nonce id <<<"$e"
		rec=$(inbox "$dst" "$src" "$nonce")
		case "$rec" in
			*'"delivered":true'*"\"message_id\":\"$id\""*) ;;
			*) echo "$src->$dst nonce $nonce: ${rec:-no answer}"; return 0 ;;
		esac
	done
	return 1
}
wait_delivered() {
	local deadline=$((SECONDS + WAIT_S))
	while [ $SECONDS -lt $deadline ]; do
		undelivered >/dev/null || return 0
		sleep 0.3
	done
	return 1
}
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null; }

# ---- the devnet is made, commits, is healthy, is scraped --------------------------------------

rc=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "${CID[testnet]}")
if [ "$rc" = "exited 0" ]; then
	ok "the testnet service made the node homes and exited 0"
else
	not_ok "the testnet service made the node homes and exited 0" "state: $rc"
fi
if wait_heights 5 0 1 2 3; then
	ok "the four validators commit (past height 5)"
else
	not_ok "the four validators commit" "heights: $(heights 0 1 2 3)"
	bail "the devnet does not commit"
fi
if d=$(same_chain 1 5 0 1 2 3); then
	ok "blocks 1..5 are the same on all four"
else
	not_ok "blocks 1..5 are the same on all four" "$d"
fi

# ---- messages both ways, through `compose run send` -------------------------------------------

sent_ok=1
for m in $(seq 1 $MSGS); do
	send 1 2 "docker test $m, 1 to 2" || sent_ok=0
	send 2 1 "docker test $m, 2 to 1" || sent_ok=0
done
if [ $sent_ok -eq 1 ] && [ ${#SENT[@]} -eq $((2 * MSGS)) ]; then
	ok "compose run send: $MSGS messages on chain 1 to 2 and $MSGS on chain 2 to 1"
else
	not_ok "compose run send: $MSGS messages each way" "sent: ${SENT[*]:-none}"
fi
if wait_delivered; then
	ok "all $((2 * MSGS)) messages are in their destination's inbox, with their ids"
else
	not_ok "all messages are delivered" "first missing: $(undelivered)"
fi

all_healthy() {
	local s
	for s in chain1 chain2 node0 node1 node2 node3 relayer prometheus; do
		[ "$(health "${CID[$s]}")" = healthy ] || { echo "$s: $(health "${CID[$s]}")"; return 1; }
	done
}
deadline=$((SECONDS + WAIT_S))
while ! why=$(all_healthy) && [ $SECONDS -lt $deadline ]; do sleep 1; done
if why=$(all_healthy); then
	ok "every long-running container is healthy (HEALTHCHECK)"
else
	not_ok "every long-running container is healthy" "$why"
fi
prom_up() {
	docker exec "${CID[prometheus]}" promtool query instant http://127.0.0.1:9090 'count(up == 1)' 2>/dev/null |
		sed -n 's/^{} => \([0-9]*\) .*/\1/p'
}
deadline=$((SECONDS + WAIT_S))
while [ "$(prom_up)" != 7 ] && [ $SECONDS -lt $deadline ]; do sleep 1; done
if [ "$(prom_up)" = 7 ]; then
	ok "Prometheus scrapes all 7 targets (4 validators, 2 devchains, the relayer)"
else
	not_ok "Prometheus scrapes all 7 targets" "$(docker exec "${CID[prometheus]}" promtool query instant http://127.0.0.1:9090 up 2>&1 | tr '\n' ';')"
fi

# ---- docker kill of a validator, docker start on the same volume ------------------------------

v=1
others="0 2 3"
served=$(nexec $v curl -s --max-time 2 "$(napi $v)/v1/deliveries/1/2/0" 2>/dev/null)
h_before=$(height $v)
docker kill "${CID[node$v]}" >/dev/null
# shellcheck disable=SC2086
if [ "$h_before" -gt 0 ] && wait_heights $((h_before + 10)) $others; then
	ok "node$v killed at height $h_before: the other three go on (past $((h_before + 10)))"
else
	not_ok "node$v killed: the other three go on" "before $h_before, heights: $(heights $others)"
fi
docker start "${CID[node$v]}" >/dev/null
# shellcheck disable=SC2086
target=$(max_height $others)
deadline=$((SECONDS + WAIT_S))
went_back=
first=-1
while [ $SECONDS -lt $deadline ]; do
	h=$(height $v)
	if [ "$h" -ge 0 ]; then
		[ "$first" -lt 0 ] && first=$h
		[ "$h" -lt "$h_before" ] && went_back="$went_back $h"
		[ "$h" -ge "$target" ] && break
	fi
	sleep 0.2
done
if [ "$first" -ge 0 ] && [ -z "$went_back" ]; then
	ok "node$v restarted on its volume: its height never went back (first answer $first, killed at $h_before)"
else
	not_ok "node$v restarted: its height never went back" "killed at $h_before; first answer $first; lower:$went_back"
fi
if [ "$(height $v)" -ge "$target" ]; then
	ok "node$v caught up with the others (height $target when it restarted)"
else
	not_ok "node$v caught up" "heights: $(heights 0 1 2 3), target $target"
fi
after=$(nexec $v curl -s --max-time 2 "$(napi $v)/v1/deliveries/1/2/0" 2>/dev/null)
case "$served" in *'"status":"ready"'*) ;; *) served= ;; esac
if [ -n "$served" ] && [ "$after" = "$served" ]; then
	ok "node$v still serves the delivery of message 0 of route 1->2, byte for byte"
else
	not_ok "node$v still serves the delivery of message 0 of route 1->2" "before: ${served:0:120}" "after: ${after:0:120}"
fi
if ! why=$(undelivered); then
	ok "every message delivered before is still in its inbox"
else
	not_ok "every message delivered before is still in its inbox" "$why"
fi

# ---- two of four validators cut off the network -----------------------------------------------

ipof() { docker inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$1"; }
IP2=$(ipof "${CID[node2]}")
IP3=$(ipof "${CID[node3]}")
docker network disconnect "$NET" "${CID[node2]}" && docker network disconnect "$NET" "${CID[node3]}" ||
	bail "docker network disconnect failed"
reach() { nexec "$1" curl -s -o /dev/null --connect-timeout 1 --max-time 2 "http://node$2:$((26700 + $2))/healthz"; }
if ! reach 0 2 && ! reach 1 3 && reach 0 1; then
	ok "node2 and node3 are cut off (node0 and node1 reach each other only)"
else
	not_ok "node2 and node3 are cut off"
fi
declare -a TO0=()
top=-1
for i in 0 1 2 3; do
	TO0[i]=$(timeouts "$i")
	h=$(height "$i")
	[ "$h" -gt "$top" ] && top=$h
done
deadline=$((SECONDS + WAIT_S))
above=
all=0
while [ $SECONDS -lt $deadline ]; do
	all=1
	for i in 0 1 2 3; do
		h=$(height "$i")
		[ "$h" -gt $((top + SLACK)) ] && above="$above node$i:$h"
		[ "$(timeouts "$i")" -ge $((TO0[i] + K)) ] || all=0
	done
	[ $all -eq 1 ] && break
	sleep 0.3
done
if [ $all -eq 1 ] && [ -z "$above" ]; then
	ok "2 of 4 cut off: no commits on either side ($K timeouts each, none above $top + $SLACK: $(heights 0 1 2 3))"
elif [ $all -ne 1 ]; then
	not_ok "2 of 4 cut off: commits stop" "not every node sent $K timeouts: $(for i in 0 1 2 3; do printf 'node%s %s->%s ' "$i" "${TO0[i]}" "$(timeouts "$i")"; done)"
else
	not_ok "2 of 4 cut off: commits stop" "above $top + $SLACK:$above"
fi
low=$(min_height 0 1 2 3)
hi=$(max_height 0 1 2 3)
# block ids chain (each names its parent), so equal ids at the lowest height
# shared mean equal histories below it; the window covers the partition
if d=$(same_chain $((top > 5 ? top - 5 : 1)) "$low" 0 1 2 3); then
	ok "no fork while cut off: blocks $((top > 5 ? top - 5 : 1))..$low are the same on all four (top $hi)"
else
	not_ok "no fork while cut off" "$d"
fi

# back with their names (compose's aliases) and their addresses
docker network connect --ip "$IP2" --alias node2 "$NET" "${CID[node2]}" &&
	docker network connect --ip "$IP3" --alias node3 "$NET" "${CID[node3]}" ||
	bail "docker network connect failed"
if wait_heights $((hi + 5)) 0 1 2 3; then
	ok "reconnected: commits resume on all four (past $((hi + 5)))"
else
	not_ok "reconnected: commits resume on all four" "heights: $(heights 0 1 2 3), before $hi"
fi
low=$(min_height 0 1 2 3)
if [ "$low" -gt "$top" ] && d=$(same_chain $((top > 5 ? top - 5 : 1)) "$low" 0 1 2 3); then
	ok "reconnected: one chain on all four (blocks $((top > 5 ? top - 5 : 1))..$low, across the partition)"
else
	not_ok "reconnected: one chain on all four" "${d:-lowest height $low}"
fi
send 1 2 "after the partition, 1 to 2" && send 2 1 "after the partition, 2 to 1" || not_ok "send after the partition"
if wait_delivered; then
	ok "messages sent after the faults are delivered too (${#SENT[@]} in all)"
else
	not_ok "messages sent after the faults are delivered" "first missing: $(undelivered)"
fi
exit 0
