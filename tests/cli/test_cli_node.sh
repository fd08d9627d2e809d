#!/usr/bin/env bash
# End-to-end test of `isthmus init`, `isthmus testnet` and `isthmus config
# check` against the real binary ($ISTHMUS_BIN, set by tests/cli/meson.build),
# in a temporary directory. The harness
# (TAP, the binary, the temporary home, the fast KDF) is tests/cli/lib.sh.
TEST_NAME=node
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PASS='node test passphrase'

# ---- help and usage ----------------------------------------------------------------

expect_help "init" "testnet" "config" "config check"
run --help
check "'isthmus --help' lists init, testnet and config" \
	bash -c "grep -q '^  init ' '$T/out' && grep -q '^  testnet ' '$T/out' && grep -q '^  config ' '$T/out'"
expect "config without subcommand: usage error" 2 config
expect_err "config with an unknown subcommand: status 2" 2 "unknown command 'isthmus config frob'" config frob
expect_err "testnet without --validators: status 2" 2 "missing --validators" testnet --output "$T/x"
expect_err "testnet without --output: status 2" 2 "missing --output" testnet --validators 2
expect_err "testnet --validators 0: status 2" 2 "--validators must be a number from 1 to 256" \
	testnet --validators 0 --output "$T/x"
expect_err "testnet --validators 257: status 2" 2 "--validators must be a number from 1 to 256" \
	testnet --validators 257 --output "$T/x"
expect_err "testnet ports past 65535: status 2" 2 "exceed 65535" \
	testnet --validators 4 --base-port 65500 --output "$T/x"
expect_err "testnet --chain-id with capitals: status 2" 2 "--chain-id must be" \
	testnet --validators 1 --chain-id Dev --output "$T/x"
expect_err "testnet --hosts with too few hosts: status 2" 2 "--hosts names 3 hosts for 4 validators" \
	testnet --validators 4 --hosts a,b,c --output "$T/x"
expect_err "testnet --hosts with an empty entry: status 2" 2 "--hosts: node1's host \"\" must be" \
	testnet --validators 3 --hosts a,,c --output "$T/x"
expect_err "testnet --hosts with 0.0.0.0: status 2" 2 "--hosts: node1's host \"0.0.0.0\" must be" \
	testnet --validators 2 --hosts 10.0.0.1,0.0.0.0 --output "$T/x"
expect_err "testnet --hosts with a bad IPv4 address: status 2" 2 "--hosts: node0's host \"10.0.0.300\" must be" \
	testnet --validators 1 --hosts 10.0.0.300 --output "$T/x"
expect_err "testnet --max-block-items 0: status 2" 2 "--max-block-items must be a number from 1 to 1024" \
	testnet --validators 1 --max-block-items 0 --output "$T/x"
expect_err "testnet --max-block-items 1025: status 2" 2 "--max-block-items must be a number from 1 to 1024" \
	testnet --validators 1 --max-block-items 1025 --output "$T/x"
expect_err "testnet --chains 65: status 2" 2 "--chains must be a number from 0 to 64" \
	testnet --validators 1 --chains 65 --output "$T/x"
expect_err "init with a bad --listen: status 2" 2 "--listen must be tcp://HOST:PORT or tls+tcp://HOST:PORT" \
	init --home "$T/x" --listen 127.0.0.1:26600
check "usage errors created nothing" [ ! -e "$T/x" ]

# ---- testnet ----------------------------------------------------------------------------

NET="$T/net"
expect "testnet --validators 4 --kdf-fast" 0 testnet --validators 4 --output "$NET" --kdf-fast
check "the summary names the genesis hash and four nodes" \
	bash -c "grep -q 'genesis hash  [0-9a-f]\{64\}' '$T/out' && [ \$(grep -c '^node[0-3] ' '$T/out') -eq 4 ]"
check "four homes node0..node3, the genesis and the validator set, nothing else" \
	bash -c "[ \"\$(ls '$NET' | tr '\n' ' ')\" = 'genesis.json node0 node1 node2 node3 validator-set.json ' ]"
for i in 0 1 2 3; do
	expect "config check node$i: status 0" 0 config check --home "$NET/node$i"
	check "config check node$i: OK, validator $i of 4" \
		bash -c "grep -q '^OK: ' '$T/out' && grep -q 'validator $i of 4 (\"node$i\")' '$T/out'"
done
check "every file 0600, every directory 0700" \
	bash -c "[ -z \"\$(find '$NET' -type f ! -perm 600)\" ] && [ -z \"\$(find '$NET' -type d ! -perm 700)\" ]"
check "the genesis is the same in every home" \
	bash -c "for i in 0 1 2 3; do cmp -s '$NET/genesis.json' '$NET/node'\$i/genesis.json || exit 1; done"
check "listen and api ports: 8 distinct, on 127.0.0.1, by the documented plan" \
	python3 - "$NET" <<'EOF'
import json, sys
net = sys.argv[1]
seen = []
for i in range(4):
    c = json.load(open(f"{net}/node{i}/config.json"))
    assert c["listen"] == f"tcp://127.0.0.1:{26600 + i}", c["listen"]
    assert c["api"] == f"http://127.0.0.1:{26700 + i}", c["api"]
    seen += [c["listen"].rsplit(":", 1)[1], c["api"].rsplit(":", 1)[1]]
    assert c["key"]["passphrase_file"] == "passphrase"
assert len(set(seen)) == 8
g = json.load(open(f"{net}/genesis.json"))
assert [v["name"] for v in g["validators"]] == ["node0", "node1", "node2", "node3"]
assert {v["stake"] for v in g["validators"]} == {1000000}
assert g["chain_id"] == "isthmus-devnet" and g["network_id"] == 1337
assert g["consensus"]["max_block_items"] == 1024
assert len({v["node_key"] for v in g["validators"]}) == 4
EOF
expect "node2's keyset unlocks with node2's passphrase file" 0 \
	keys show validator --verify --keystore "$NET/node2/keys" --passphrase-file "$NET/node2/passphrase"
expect_err "and not with node1's" 1 "wrong passphrase or tampered file" \
	keys show validator --verify --keystore "$NET/node2/keys" --passphrase-file "$NET/node1/passphrase"
expect_err "testnet into a non-empty directory: status 1" 1 "$NET: exists and is not empty" \
	testnet --validators 2 --output "$NET" --kdf-fast

NET2="$T/net2"
expect "a second testnet with the same options" 0 testnet --validators 4 --output "$NET2" --kdf-fast
check "deterministic apart from keys: the same configs, the same genesis but for the keys" \
	python3 - "$NET" "$NET2" <<'EOF'
import json, sys
a, b = sys.argv[1], sys.argv[2]
for i in range(4):
    assert open(f"{a}/node{i}/config.json").read() == open(f"{b}/node{i}/config.json").read()
def blank(p):
    g = json.load(open(p))
    for v in g["validators"]:
        for k in ("node_key", "attestation_key", "attestation_address", "dkg_key"):
            v[k] = ""
    for a in g.get("accounts", []):
        a["key"] = ""   # each validator's node key has an account
    return g
ga, gb = blank(f"{a}/genesis.json"), blank(f"{b}/genesis.json")
assert ga == gb
assert open(f"{a}/genesis.json").read() != open(f"{b}/genesis.json").read()  # new keys
EOF

printf '%s\n' "$PASS" >"$T/pass.txt"
expect "testnet with options and --passphrase-file" 0 testnet --validators 2 --output "$T/net3" --base-port 30000 \
	--chain-id my-dev --network-id 18446744073709551615 --stake 5 --max-block-items 100 \
	--passphrase-file "$T/pass.txt" --kdf-fast
check "the options are in the genesis and configs (a u64 above 2^53 as a string)" \
	python3 - "$T/net3" <<'EOF'
import json, sys
d = sys.argv[1]
g = json.load(open(f"{d}/genesis.json"))
assert g["chain_id"] == "my-dev" and g["network_id"] == "18446744073709551615", g
assert [v["stake"] for v in g["validators"]] == [5, 5]
assert g["consensus"]["max_block_items"] == 100
assert open(f"{d}/node0/genesis.json").read() == open(f"{d}/genesis.json").read()
c = json.load(open(f"{d}/node1/config.json"))
assert c["listen"] == "tcp://127.0.0.1:30001" and c["api"] == "http://127.0.0.1:30101"
EOF
expect "testnet --hosts: one host per validator" 0 testnet --validators 3 --output "$T/net4" \
	--hosts 10.77.0.1,node-b.example,[fd00::3] --kdf-fast
check "--hosts: each node binds and is reached on its host, ports by the plan" \
	python3 - "$T/net4" <<'EOF'
import json, sys
d = sys.argv[1]
hosts = ["10.77.0.1", "node-b.example", "[fd00::3]"]
g = json.load(open(f"{d}/genesis.json"))
for i, h in enumerate(hosts):
    c = json.load(open(f"{d}/node{i}/config.json"))
    assert c["listen"] == f"tcp://{h}:{26600 + i}", c["listen"]
    assert c["api"] == f"http://{h}:{26700 + i}", c["api"]
    assert g["validators"][i]["address"] == c["listen"], g["validators"][i]
EOF
check "--hosts: the summary shows the addresses" \
	bash -c "grep -q '^node2 .*tcp://\\[fd00::3\\]:26602 *http://\\[fd00::3\\]:26702 ' '$T/out'"
expect "--hosts: config check node1 OK" 0 config check --home "$T/net4/node1"
expect "the given passphrase opens node1's keyset" 0 \
	keys show validator --verify --keystore "$T/net3/node1/keys" --passphrase-file "$T/pass.txt"
check "and sits in node1's passphrase file" cmp -s "$T/pass.txt" "$T/net3/node1/passphrase"

# ---- broken configs and genesis files: one line, file, field, problem; status 1 ----------------

H="$NET/node1"
cp "$H/genesis.json" "$T/genesis.orig"
cp "$H/config.json" "$T/config.orig"
edit "$H/genesis.json" 'o["validators"][2]["stake"] = -5'
expect_line "a negative stake" 1 \
	"isthmus: $H/genesis.json: validators[2].stake: must be a positive integer (got -5)" config check --home "$H"
check "nothing on stdout after a failed check" [ ! -s "$T/out" ]
cp "$T/genesis.orig" "$H/genesis.json"
edit "$H/genesis.json" 'o["validators"][0]["stak"] = o["validators"][0].pop("stake")'
expect_line "a misspelt genesis field" 1 \
	"isthmus: $H/genesis.json: validators[0].stak: unknown field (did you mean \"stake\"?)" config check --home "$H"
cp "$T/genesis.orig" "$H/genesis.json"
edit "$H/genesis.json" 'o["validators"][3]["node_key"] = o["validators"][1]["node_key"]'
expect_line "a duplicate node key" 1 \
	"isthmus: $H/genesis.json: validators[3].node_key: duplicate of validators[1].node_key" config check --home "$H"
cp "$T/genesis.orig" "$H/genesis.json"
printf '{\n  "chain_id": "isthmus-devnet",\n  "network_id" 1337\n}\n' >"$H/genesis.json"
expect_line "a JSON syntax error: line and column" 1 \
	"isthmus: $H/genesis.json: line 3, column 19: invalid JSON: ':' expected near '1337'" config check --home "$H"
rm "$H/genesis.json"
expect_line "a missing genesis" 1 "isthmus: $H/genesis.json: no such file" config check --home "$H"
cp "$T/genesis.orig" "$H/genesis.json"
edit "$H/config.json" 'o["listn"] = o.pop("listen")'
expect_line "a misspelt config field" 1 \
	"isthmus: $H/config.json: listn: unknown field (did you mean \"listen\"?)" config check --home "$H"
cp "$T/config.orig" "$H/config.json"
edit "$H/config.json" 'o["api"] = "http://127.0.0.1"'
expect_line "a config URL without a port" 1 \
	"isthmus: $H/config.json: api: must be http://HOST:PORT (got \"http://127.0.0.1\": port missing)" \
	config check --home "$H"
cp "$T/config.orig" "$H/config.json"
edit "$H/config.json" 'o["limits"]["max_peer_burst"] = "many"'
expect_line "a config value of the wrong type" 1 \
	"isthmus: $H/config.json: limits.max_peer_burst: must be an integer from 1 to 1000000 (got \"many\")" \
	config check --home "$H"
cp "$T/config.orig" "$H/config.json"
cp "$NET2/node1/keys/validator.json" "$H/keys/validator.json"
expect "a keyset that is not in the genesis: a validator that joins by staking, OK" 0 config check --home "$H"
check "config check says it joins by staking" out_has "not in the genesis: it joins by staking"
edit "$H/config.json" 'o["role"] = "observer"'
expect "the same home as an observer: OK" 0 config check --home "$H"
check "config check says observer" out_has "role         observer"
cp "$T/config.orig" "$H/config.json"
chmod 644 "$H/passphrase"
expect_err "a passphrase file others can read: refused" 1 "key.passphrase_file: $H/passphrase is accessible by group or others" \
	config check --home "$H"
expect_line "config check of a directory that is no home" 1 "isthmus: $T/nohome/config.json: no such file" \
	config check --home "$T/nohome"

# ---- init -------------------------------------------------------------------------------------

V="$T/val"
expect_err "init without a passphrase: status 1" 1 "no passphrase" init --home "$V" --kdf-fast
check "and nothing was created" [ ! -e "$V" ]
export ISTHMUS_PASSPHRASE="$PASS"
expect "init --home --moniker --listen" 0 init --home "$V" --moniker val1 --listen tcp://198.51.100.7:26600 --kdf-fast
check "init prints the public entry with the keys and address" \
	bash -c "grep -q '\"node_key\": \"[0-9a-f]\{64\}\"' '$T/out' && grep -q '\"attestation_address\": \"0x' '$T/out' && grep -q '\"address\": \"tcp://198.51.100.7:26600\"' '$T/out'"
check "home 0700; config.json, public.json and the key file 0600" \
	bash -c "[ \$(stat -c %a '$V') = 700 ] && [ \$(stat -c %a '$V/config.json') = 600 ] && [ \$(stat -c %a '$V/public.json') = 600 ] && [ \$(stat -c %a '$V/keys/validator.json') = 600 ] && [ \$(stat -c %a '$V/keys') = 700 ]"
check "config.json: the moniker, listen and default api" \
	python3 -c "import json,sys; c=json.load(open(sys.argv[1])); assert c['moniker']=='val1' and c['listen']=='tcp://198.51.100.7:26600' and c['api']=='http://127.0.0.1:26700' and 'passphrase_file' not in c['key']" "$V/config.json"
cp "$V/public.json" "$T/public.first"
expect_err "init a second time: refused, status 1" 1 "$V/config.json: file exists" init --home "$V" --kdf-fast
expect "init --force rewrites the config" 0 init --home "$V" --moniker val2 --force --kdf-fast
check "--force keeps the keyset (same node key) and says so" \
	bash -c "grep -q 'existing, kept' '$T/out' && python3 -c \"import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); assert a['node_key']==b['node_key'] and b['name']=='val2'\" '$T/public.first' '$V/public.json'"
expect_line "a fresh home has no genesis yet" 1 "isthmus: $V/genesis.json: no such file" config check --home "$V"
# the coordinator builds a genesis from public.json
python3 - "$V/public.json" "$V/genesis.json" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
v["stake"] = 10
g = {"chain_id": "one-val", "network_id": 9, "genesis_time": "2024-06-01T12:00:00Z",
     "consensus": {"timeout_base_ms": 500, "timeout_max_ms": 5000, "max_block_items": 100,
                   "max_block_bytes": 65536, "epoch_length_blocks": 100},
     "validators": [v],
     "staking": {"max_validators": 10, "min_stake": 1, "unbonding_epochs": 2, "slash_fraction_bps": 1000,
                 "jail_missed_bps": 9000, "jail_cooldown_epochs": 1}}
json.dump(g, open(sys.argv[2], "w"), indent=2)
EOF
chmod 600 "$V/genesis.json"
expect "a genesis made from public.json: config check OK" 0 config check --home "$V"
check "the node is validator 0 of 1" out_has 'validator 0 of 1 ("val2")'
with_home() { ISTHMUS_HOME="$V" "$BIN" config check >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
with_home
check "\$ISTHMUS_HOME is the default home" bash -c "[ $rc -eq 0 ] && grep -qF 'OK: $V' '$T/out'"

finish
