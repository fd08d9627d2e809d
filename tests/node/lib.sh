# Real isthmusd processes on 127.0.0.1 for the shell tests that run them
# (tests/node/test_node_*.sh through tests/node/harness.sh, and
# tests/cli/test_cli_safety.sh), which source it after setting DBIN (the
# isthmusd binary) and T (their temporary directory).
#
# Node I runs from the home $T/net/nodeI (made by `isthmus testnet --output
# $T/net --base-port $BASE`), logs to $T/nodeI.log, and has the pid
# ${PIDS[I]} while it runs. Waiting is polling with a bound (WAIT_S seconds
# per condition), never a fixed sleep as synchronisation; nothing here
# asserts on timing. The caller's EXIT trap calls kill_nodes, so that no
# process outlives the test whatever happens.

WAIT_S=${ISTHMUS_TEST_WAIT_S:-60}
declare -a PIDS=()

# kill_nodes: SIGKILL every node still running, and reap it.
kill_nodes() {
	local p
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null
	done
}

port_used() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_base_port N [CHAINS]: sets BASE to a free base port for N nodes:
# BASE..BASE+N-1 (p2p) and BASE+100..BASE+100+N-1 (api), and for CHAINS
# devchains (default 0) BASE+200..BASE+200+CHAINS-1 (where `isthmus testnet
# --chains` points the nodes' watchers). Returns 1 when none was found.
# The ports lie below the kernel's ephemeral range when there is room: there,
# the outgoing connections of earlier tests (curl, peers) linger in
# TIME_WAIT, which a connect cannot see but which makes a listener's bind
# fail.
pick_base_port() {
	local try p i busy lo span=40000
	BASE=
	if read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && [ "$lo" -gt 25000 ]; then
		span=$((lo - 20000 - 200))
	fi
	for try in $(seq 1 50); do
		p=$((20000 + (RANDOM * 7 + $$ + try * 131) % span))
		busy=0
		for i in $(seq 0 $(($1 - 1))); do
			if port_used $((p + i)) || port_used $((p + 100 + i)); then busy=1; break; fi
		done
		for i in $(seq 0 $((${2:-0} - 1))); do
			if port_used $((p + 200 + i)); then busy=1; break; fi
		done
		# BASE+250: where tests/node/test_node_attest.sh's lying RPC listens
		port_used $((p + 250)) && busy=1
		if [ $busy -eq 0 ]; then BASE=$p; return 0; fi
	done
	return 1
}

api() { echo "http://127.0.0.1:$((BASE + 100 + $1))"; }

start() {
	"$DBIN" --home "$T/net/node$1" >>"$T/node$1.log" 2>&1 </dev/null &
	PIDS[$1]=$!
}

# metric I NAME: the sum of the series NAME (with its labels) on node I's
# /metrics, 0 when there is none
metric() {
	curl -s --max-time 2 "$(api "$1")/metrics" | awk -v m="$2" '$1 == m { s += $2 } END { print s + 0 }'
}

# height I: the node's committed height, or -1 when it does not answer
height() {
	local h
	h=$(curl -s --max-time 2 "$(api "$1")/v1/status" 2>/dev/null | sed -n 's/.*"height":\([0-9]*\).*/\1/p')
	case "$h" in ''|null|*[!0-9]*) echo -1 ;; *) echo "$h" ;; esac
}

# block_id I H: the id of node I's committed block at height H, one line
block_id() {
	local body
	body=$(curl -s --max-time 2 "$(api "$1")/v1/blocks/$2" 2>/dev/null)
	printf '%s\n' "$body" | sed -n 's/^{"id":"\([0-9a-f]\{64\}\)".*/\1/p'
}

# wait_heights MIN NODES...: until every node listed reports height >= MIN
wait_heights() {
	local min=$1
	shift
	local deadline=$((SECONDS + WAIT_S)) i all
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

alive() { kill -0 "${PIDS[$1]}" 2>/dev/null; }

# stop I: SIGTERM, then wait (bounded) and give its exit status in $rc
stop() {
	local pid=${PIDS[$1]} deadline=$((SECONDS + 30))
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=timeout
	else
		wait "$pid"
		rc=$?
	fi
	PIDS[$1]=
}

# chain_url K: devchain K's URL, where `isthmus testnet --chains` points the
# nodes (BASE+200+K-1)
chain_url() { echo "http://127.0.0.1:$((BASE + 199 + $1))"; }

# start_devchains M [FLAG...]: devchains 1..M ($ISTHMUS_DEVCHAIN_BIN) at
# chain_url K, a block every 200 ms, finality depth 1, trusting $T/net's
# genesis set, with the extra flags (e.g. --test-hooks); logs $T/chainK.log,
# pids ${PIDS[7+K]}
start_devchains() {
	local k
	for k in $(seq 1 "$1"); do
		"${ISTHMUS_DEVCHAIN_BIN:?}" --data "$T/chain$k" --chain-id "$k" --listen "$(chain_url "$k")" \
			--block-ms 200 --finality-depth 1 --trust "$T/net/validator-set.json" "${@:2}" \
			>>"$T/chain$k.log" 2>&1 </dev/null &
		PIDS[$((7 + k))]=$!
	done
}

# jget URL EXPR: a python expression over the JSON document `d` at URL, or ''
jget() {
	curl -s --max-time 5 "$1" 2>/dev/null | python3 -c "import json,sys
try:
    d=json.load(sys.stdin); print($2)
except Exception:
    print('')" 2>/dev/null
}

# poll COMMAND...: until the command succeeds, at most WAIT_S seconds
poll() {
	local deadline=$((SECONDS + WAIT_S))
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.3
	done
	return 1
}

# ---- messages and governance (the devchains of start_devchains, the
# validators of $T/net) ----

# start_net N M [DEVCHAIN FLAGS...]: an `isthmus testnet` of N validators and
# M chains in $T/net (then the test's edit_genesis FILE, when it has one, on
# every copy of genesis.json), its devchains (start_devchains M FLAGS...), its
# validators (committing), and `isthmus relay` over every chain through
# validators 1 and 2 (log $T/relay.log, pid ${PIDS[11]})
start_net() {
	local nv=$1 m=$2 i k chains=()
	shift 2
	pick_base_port "$nv" "$m" || bail "no free base port found"
	"$BIN" testnet --validators "$nv" --chains "$m" --output "$T/net" --base-port "$BASE" --kdf-fast \
		>"$T/testnet.out" 2>&1 </dev/null || bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"
	if declare -F edit_genesis >/dev/null; then
		for k in "$T/net/genesis.json" "$T"/net/node*/genesis.json; do
			edit_genesis "$k" || bail "edit_genesis $k failed"
		done
	fi
	start_devchains "$m" "$@"
	for i in $(seq 0 $((nv - 1))); do start "$i"; done
	wait_heights 3 $(seq 0 $((nv - 1))) && ok "$nv validators commit" || bail "no commits"
	for k in $(seq 1 "$m"); do chains+=(--chain "$k=$(chain_url "$k")"); done
	"$BIN" relay --validator "$(api 1)" --validator "$(api 2)" "${chains[@]}" \
		--state "$T/relay.json" --wait-ms 1000 >"$T/relay.log" 2>&1 </dev/null &
	PIDS[11]=$!
}

R32=3333333333333333333333333333333333333333333333333333333333333333
# send SRC DST [VALUE]: sends a message on chain SRC to chain DST (declared
# value VALUE, default 1); its nonce in $NONCE
send() {
	local out
	out=$(curl -s --max-time 10 -X POST \
		-d "{\"dst_chain\":$2,\"recipient\":\"$R32\",\"value\":${3:-1},\"payload\":\"00\"}" \
		"$(chain_url "$1")/v1/messages")
	NONCE=$(printf '%s' "$out" | sed -n 's/.*"nonce":\([0-9]*\).*/\1/p')
	[ -n "$NONCE" ]
}
# delivered SRC DST NONCE: the message is in DST's inbox
delivered() { curl -s --max-time 5 "$(chain_url "$2")/v1/inbox/$1/$3" | grep -q '"delivered":true'; }
# inbox_height SRC DST NONCE: the height of DST's block that took it
inbox_height() { jget "$(chain_url "$2")/v1/inbox/$1/$3" 'd["height"]'; }

# gov ARGS...: `isthmus gov` as validator I's operator (GOV_AS), output in $T/gov.out
GOV_AS=0
gov() {
	"$BIN" gov "$@" --keystore "$T/net/node$GOV_AS/keys" --key validator \
		--passphrase-file "$T/net/node$GOV_AS/passphrase" --node "$(api 1)" --timeout 60 \
		>"$T/gov.out" 2>&1 </dev/null
	local rc=$?
	cat "$T/gov.out" >>"$T/cli.log"
	return $rc
}
as() { GOV_AS=$1; shift; gov "$@"; }
