#!/usr/bin/env bash
# End-to-end test of `isthmus safety export|import` against the real binaries
# ($ISTHMUS_BIN and $ISTHMUSD_BIN, set by tests/cli/meson.build). A
# one-validator testnet (it commits alone) runs as a real isthmusd to make a
# safety state and to hold the home's lock. Checks: both commands refuse
# while the node runs; export writes the state and its description (0600
# with --output, never over a file without --force); a round trip into a new
# data directory gives the same state back; import refuses a state for
# another chain, another genesis or another node key, a state lower than the
# home's, and malformed files, each with one line naming the file, the field
# and the problem. Moving a validator in a running 4-validator network is
# tests/node/test_node_move.sh. The harnesses are tests/cli/lib.sh (TAP, the
# binary, the temporary home) and tests/node/lib.sh (the processes).
TEST_NAME=safety
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DBIN=${ISTHMUSD_BIN:?ISTHMUSD_BIN must point to the isthmusd binary}
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"
trap 'kill_nodes; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT

H="$T/net/node0"
# field FILE KEY: a top-level value of a JSON file
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# ---- help and usage ---------------------------------------------------------------

expect_help "safety" "safety export" "safety import"
run --help
check "'isthmus --help' lists safety" grep -q '^  safety ' "$T/out"
expect "safety without subcommand: usage error" 2 safety
expect_err "an unknown subcommand: status 2" 2 "unknown command 'isthmus safety restore'" safety restore
expect_err "import without FILE: status 2" 2 "missing FILE" safety import --home "$H"
expect_err "export with an argument: status 2" 2 "unexpected argument 'x'" safety export --home "$H" x
expect_err "export --force without --output: status 2" 2 "--force needs --output FILE" safety export --force

# ---- a validator that has voted -------------------------------------------------------

pick_base_port 1 || { echo "Bail out! no free base port found"; exit 1; }
expect "isthmus testnet --validators 1 (base port $BASE)" 0 \
	testnet --validators 1 --output "$T/net" --base-port "$BASE" --kdf-fast
expect_err "export before the node ever ran: no database" 1 \
	"$H/data: no database: the node has never run on this home, so it has no safety state" \
	safety export --home "$H"
check "export made no data directory" [ ! -e "$H/data" ]

start 0
if wait_heights 3 0; then ok "the validator commits alone (height 3)"; else not_ok "the validator commits alone"; fi
expect_err "export while isthmusd runs: refused" 1 \
	"$H/data: the node is running (another process holds its database): stop isthmusd on this home before exporting" \
	safety export --home "$H"
stop 0
check "isthmusd stops with status 0" [ "$rc" = 0 ]

expect "export to stdout" 0 safety export --home "$H"
cp "$T/out" "$T/stdout.json"
check "the document says what it holds" python3 - "$T/stdout.json" "$H/genesis.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
g = json.load(open(sys.argv[2]))
assert d["format"] == "isthmus-safety-state" and d["version"] == 1, d
assert d["chain_id"] == g["chain_id"] and d["network_id"] == g["network_id"], d
assert d["node_key"] == g["validators"][0]["node_key"], d
assert len(d["genesis_hash"]) == 64 and len(d["high_qc_block"]) == 64, d
assert d["epoch"] == 0 and d["last_voted_view"] >= 3 and d["high_qc_view"] >= 2, d
assert d["state"].startswith("01"), d
EOF
expect "export --output - is stdout" 0 safety export --home "$H" --output -
check "... the same document" cmp -s "$T/out" "$T/stdout.json"
expect "export --output FILE" 0 safety export --home "$H" --output "$T/a.json"
check "export --output prints one line" bash -c "[ \$(wc -l <'$T/out') -eq 1 ] && grep -q '^exported the safety state of $H/data to $T/a.json: epoch 0, last voted view' '$T/out'"
check "the file is mode 0600" [ "$(mode_of "$T/a.json")" = 600 ]
check "the file is what stdout had" cmp -s "$T/a.json" "$T/stdout.json"
expect_err "export over an existing file: refused" 1 "$T/a.json: file exists (use --force to replace it)" \
	safety export --home "$H" --output "$T/a.json"
chmod 644 "$T/a.json"
expect "export --output FILE --force replaces it" 0 safety export --home "$H" --output "$T/a.json" --force
check "the replaced file is mode 0600" [ "$(mode_of "$T/a.json")" = 600 ]
a_view=$(field "$T/a.json" last_voted_view)

# the node goes on voting: its state moves past the file's
start 0
if wait_heights $((a_view + 3)) 0; then ok "the validator commits on"; else not_ok "the validator commits on"; fi
expect_err "import while isthmusd runs: refused" 1 \
	"$H/data: the node is running (another process holds its database): stop isthmusd on this home before importing" \
	safety import --home "$H" "$T/a.json"
stop 0
expect "export the later state" 0 safety export --home "$H" --output "$T/b.json"
b_view=$(field "$T/b.json" last_voted_view)
check "the later state has a higher last voted view ($a_view < $b_view)" [ "$a_view" -lt "$b_view" ]

# ---- never lower ---------------------------------------------------------------------------

expect_err "import of an older state: refused, the reason said" 1 \
	"$H/data: refused: it would lower the last voted view from $b_view to $a_view: the node could vote again in views $((a_view + 1)) to $b_view" \
	safety import --home "$H" "$T/a.json"
expect "the home keeps its state" 0 safety export --home "$H" --output "$T/b2.json"
check "... the same state as before the refused import" cmp -s "$T/b.json" "$T/b2.json"
expect "import of the same state: accepted" 0 safety import --home "$H" "$T/b.json"
check "the summary says what it replaced" grep -q "^imported the safety state of $T/b.json into $H/data: epoch 0, last voted view $b_view, highest QC view [0-9]* (replacing epoch 0, last voted view $b_view, highest QC view [0-9]*)$" "$T/out"

# ---- a round trip into a new data directory ----------------------------------------------------

cp -r "$H" "$T/moved" && rm -rf "$T/moved/data"
expect "import into a home without a data directory" 0 safety import --home "$T/moved" "$T/b.json"
check "the summary says the home had none" grep -q "(the home had none)$" "$T/out"
check "one line of output" [ "$(wc -l <"$T/out")" -eq 1 ]
check "the data directory is made 0700" [ "$(mode_of "$T/moved/data")" = 700 ]
expect "export from the new home" 0 safety export --home "$T/moved" --output "$T/moved.json"
check "the round trip gives the same file back" cmp -s "$T/b.json" "$T/moved.json"

# ---- another chain, another genesis, another key -----------------------------------------------------

expect "a testnet of another chain" 0 testnet --validators 1 --chain-id other-chain --output "$T/other" --kdf-fast
expect_err "import into another chain's home: refused" 1 \
	"$T/b.json: chain_id: the state is for chain \"isthmus-devnet\", this home runs \"other-chain\"" \
	safety import --home "$T/other/node0" "$T/b.json"
expect "a testnet of the same chain id, other keys" 0 testnet --validators 1 --output "$T/again" --kdf-fast
expect_err "import into another genesis' home: refused" 1 "$T/b.json: genesis_hash: the state is for genesis" \
	safety import --home "$T/again/node0" "$T/b.json"
check "refused imports made no data directory" bash -c "[ ! -e '$T/other/node0/data' ] && [ ! -e '$T/again/node0/data' ]"
cp "$T/b.json" "$T/key.json"
edit "$T/key.json" 'o["node_key"] = json.load(open("'"$T/again/node0/genesis.json"'"))["validators"][0]["node_key"]'
expect_err "import of another node key's state: refused" 1 \
	"$T/key.json: node_key: the state is for node key" safety import --home "$H" "$T/key.json"

# ---- malformed files: one line naming the file, the field and the problem -----------------------------

# bad NAME PYTHON: a copy of b.json edited by PYTHON (`o` the document)
bad() { cp "$T/b.json" "$T/$1.json" && edit "$T/$1.json" "$2"; }
bad version 'o["version"] = 2'
expect_err "a newer format version" 1 "$T/version.json: version: unsupported version 2 (this isthmus reads version 1)" \
	safety import --home "$H" "$T/version.json"
bad format 'o["format"] = "isthmus-keystore"'
expect_err "another kind of file" 1 "$T/format.json: format: must be \"isthmus-safety-state\"" \
	safety import --home "$H" "$T/format.json"
bad unknown 'o["lst_voted_view"] = 1'
expect_err "an unknown field" 1 "$T/unknown.json: lst_voted_view: unknown field (did you mean \"last_voted_view\"?)" \
	safety import --home "$H" "$T/unknown.json"
bad missing 'del o["state"]'
expect_err "a missing field" 1 "$T/missing.json: state: missing required field" \
	safety import --home "$H" "$T/missing.json"
bad view 'o["last_voted_view"] += 1000'
expect_err "an edited view (the state says otherwise)" 1 \
	"$T/view.json: last_voted_view: is $((b_view + 1000)), but the state holds $b_view" \
	safety import --home "$H" "$T/view.json"
bad hex 'o["state"] = o["state"][:-2] + "zz"'
expect_err "a state that is not hex" 1 "$T/hex.json: state: must be the state bytes in hex (got a non-hex character)" \
	safety import --home "$H" "$T/hex.json"
bad short 'o["state"] = o["state"][:-2]'
expect_err "a truncated state" 1 "$T/short.json: state: not a valid safety state" \
	safety import --home "$H" "$T/short.json"
bad statever 'o["state"] = "02" + o["state"][2:]'
expect_err "a newer state version" 1 \
	"$T/statever.json: state: unsupported safety state version 2 (this isthmus reads version 1)" \
	safety import --home "$H" "$T/statever.json"
bad negative 'o["epoch"] = -1'
expect_err "a negative epoch" 1 "$T/negative.json: epoch: must be a non-negative integer (got -1)" \
	safety import --home "$H" "$T/negative.json"
printf '{"format": "isthmus-safety-state",\n "version": 1,' >"$T/cut.json"
expect_err "a file cut short: line and column" 1 "$T/cut.json: line 2, column" \
	safety import --home "$H" "$T/cut.json"
expect_err "a missing file" 1 "$T/nofile.json: no such file" safety import --home "$H" "$T/nofile.json"
expect "after all that, the home still holds its state" 0 safety export --home "$H" --output "$T/b3.json"
check "... unchanged" cmp -s "$T/b.json" "$T/b3.json"
check "nothing printed a stack or a second line" bash -c "! grep -q 'Assertion\|AddressSanitizer\|runtime error' '$T/all'"

finish
