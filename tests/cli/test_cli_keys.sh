#!/usr/bin/env bash
# End-to-end test of `isthmus keys` against the real binary ($ISTHMUS_BIN, set
# by tests/cli/meson.build), in a temporary keystore. The harness
# (TAP, the binary, the temporary home, the fast KDF) is tests/cli/lib.sh.
TEST_NAME=cli
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KS="$T/keys"
PASS='test passphrase 1'

# ---- help and usage --------------------------------------------------------

expect_help "" "keys" "keys new" "keys list" "keys show" "keys export" "keys import" "keys delete" "version"
run keys new -h
check "'keys new -h' is help too" [ "$rc" -eq 0 ]
run --version
check "--version prints the version" grep -q '^isthmus [0-9]' "$T/out"

expect "no command: usage error" 2
check "no command: usage on stderr" grep -q '^usage: isthmus' "$T/err"
expect "keys without subcommand: usage error" 2 keys
expect_err "unknown command: status 2" 2 "unknown command 'isthmus frobnicate'" frobnicate
expect_err "unknown subcommand: status 2" 2 "unknown command 'isthmus keys rotate'" keys rotate
expect_err "unknown option: status 2" 2 "unknown option '--bogus'" keys list --bogus
expect_err "unknown top-level option: status 2" 2 "unknown option '--bogus' (see 'isthmus --help')" --bogus
expect_err "an unknown short option in a group is named" 2 "unknown option '-x' (see 'isthmus --help')" -xh
expect_err "option without its argument: status 2" 2 "needs an argument" keys list --keystore
expect_err "keys new without NAME: status 2" 2 "missing NAME" keys new --keystore "$KS"
expect_err "an invalid name: status 2" 2 "invalid keyset name" keys new ../evil --keystore "$KS"
expect_err "an unknown type: status 2" 2 "unknown --type" keys new x --type rsa --keystore "$KS"
check "usage errors created nothing" [ ! -e "$KS" ]

# ---- new ------------------------------------------------------------------------

expect_err "no passphrase source: status 1" 1 "no passphrase" keys new val1 --keystore "$KS"
export ISTHMUS_PASSPHRASE="$PASS"
expect "keys new val1 (ISTHMUS_PASSPHRASE)" 0 keys new val1 --keystore "$KS"
check "new prints the file" out_has "$KS/val1.json"
check "new prints the three public keys and the address" \
	bash -c "grep -q '^node  *ed25519  *[0-9a-f]\{64\}$' '$T/out' && grep -q '^attestation  *secp256k1  *0[23][0-9a-f]\{64\}$' '$T/out' && grep -q '^address .* 0x[0-9a-fA-F]\{40\}$' '$T/out' && grep -q '^dkg  *x25519  *[0-9a-f]\{64\}$' '$T/out'"
check "key file mode 0600" [ "$(mode_of "$KS/val1.json")" = 600 ]
check "keystore directory mode 0700" [ "$(mode_of "$KS")" = 700 ]
check "no temporary file left behind" [ "$(find "$KS" -name '.*' -type f | wc -l)" -eq 0 ]
expect_err "new over an existing key: status 1, names the file" 1 "$KS/val1.json: key file already exists" \
	keys new val1 --keystore "$KS"

printf '%s\n' 'other passphrase' >"$T/pass.txt"
printf '\n' >"$T/empty-pass.txt"
unset ISTHMUS_PASSPHRASE
expect "keys new relay --type secp256k1 --passphrase-file" 0 \
	keys new relay --type secp256k1 --passphrase-file "$T/pass.txt" --keystore "$KS"
check "a single-key keyset has just that key" bash -c "! grep -q ed25519 '$T/out' && grep -q secp256k1 '$T/out'"
expect_err "an empty passphrase is refused" 1 "empty" \
	keys new empty --passphrase-file "$T/empty-pass.txt" --keystore "$KS"
check "no file for the refused keyset" [ ! -e "$KS/empty.json" ]
expect "--passphrase-file opens what it made (--verify)" 0 \
	keys show relay --verify --passphrase-file "$T/pass.txt" --keystore "$KS"
export ISTHMUS_PASSPHRASE="$PASS"
expect "--passphrase-file wins over ISTHMUS_PASSPHRASE" 0 \
	keys show relay --verify --passphrase-file "$T/pass.txt" --keystore "$KS"

# ---- list, show, export ---------------------------------------------------------

expect "keys list" 0 keys list --keystore "$KS"
check "list: one line per keyset, sorted" \
	bash -c "[ \"\$(cut -f1,2 '$T/out' | tr '\t' ' ')\" = \"\$(printf 'relay secp256k1\nval1 validator')\" ]"
expect "keys list --json" 0 keys list --json --keystore "$KS"
check "list --json is JSON with both names" \
	python3 -c "import json,sys; a=json.load(open(sys.argv[1])); assert [k['name'] for k in a]==['relay','val1']" "$T/out"

without ISTHMUS_PASSPHRASE expect "keys show val1 (no passphrase needed)" 0 keys show val1 --keystore "$KS"
expect "keys show val1" 0 keys show val1 --keystore "$KS"
ADDR=$(awk '$1 == "address" { print $3 }' "$T/out")
check "show gives an EIP-55 address" bash -c "[[ '$ADDR' =~ ^0x[0-9a-fA-F]{40}$ ]] && [[ '$ADDR' =~ [A-F] ]]"
expect "keys show --json" 0 keys show val1 --json --keystore "$KS"
check "show --json has the keys and the address" \
	python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert [k['type'] for k in o['keys']]==['ed25519','secp256k1','x25519'] and o['keys'][1]['address']==sys.argv[2]" "$T/out" "$ADDR"
expect "keys export val1" 0 keys export val1 --keystore "$KS"
cp "$T/out" "$T/val1.pub.json"
check "export has exactly the public fields" \
	python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert sorted(o)==['attestation_address','attestation_key','dkg_key','name','node_key'] and o['attestation_address']==sys.argv[2]" "$T/out" "$ADDR"
expect "export --output FILE" 0 keys export val1 --output "$T/exported.json" --keystore "$KS"
check "the exported file equals stdout's export" cmp -s "$T/exported.json" "$T/val1.pub.json"
expect_err "export --output over an existing file: status 1" 1 "$T/exported.json: file exists" \
	keys export val1 --output "$T/exported.json" --keystore "$KS"
expect "export --output --force" 0 keys export val1 --output "$T/exported.json" --force --keystore "$KS"

# ---- verify, wrong passphrase, secrets -------------------------------------------

expect "show --verify with the right passphrase" 0 keys show val1 --verify --keystore "$KS"
check "show --verify says verified" out_has "verified"
with ISTHMUS_PASSPHRASE=wrong expect_err "show --verify with a wrong passphrase: one line naming the file" 1 \
	"$KS/val1.json: wrong passphrase or tampered file" keys show val1 --verify --keystore "$KS"
check "nothing on stdout after a failed --verify" [ ! -s "$T/out" ]
check "no secret printed so far" bash -c "! grep -q '^secret ' '$T/all'"

expect_err "--reveal-secret with --json: status 2" 2 "--reveal-secret" \
	keys show val1 --reveal-secret --json --keystore "$KS"
"$BIN" keys show val1 --reveal-secret --keystore "$KS" >"$T/reveal.out" 2>"$T/reveal.err" </dev/null
rc=$?
check "show --reveal-secret: status 0" [ "$rc" -eq 0 ]
check "show --reveal-secret warns on stderr" grep -q '^isthmus: warning: printing secret keys' "$T/reveal.err"
awk '$1 == "secret" { print $3 }' "$T/reveal.out" >"$T/secrets.hex"
check "show --reveal-secret prints three 32-byte secrets" \
	bash -c "[ \$(grep -c '^[0-9a-f]\{64\}\$' '$T/secrets.hex') -eq 3 ]"

# ---- import -------------------------------------------------------------------------

cp "$KS/val1.json" "$T/backup.json"
chmod 644 "$T/backup.json"
expect "import --from a backup under a new name" 0 keys import copy --from "$T/backup.json" --keystore "$KS"
expect "export the imported copy" 0 keys export copy --keystore "$KS"
check "the copy has val1's keys" \
	python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); del a['name'], b['name']; assert a==b" "$T/out" "$T/val1.pub.json"
expect "the copy opens with the same passphrase" 0 keys show copy --verify --keystore "$KS"
with ISTHMUS_PASSPHRASE=wrong expect_err "import --from with a wrong passphrase names the backup" 1 \
	"$T/backup.json: wrong passphrase or tampered file" keys import copy2 --from "$T/backup.json" --keystore "$KS"
check "nothing imported after a wrong passphrase" [ ! -e "$KS/copy2.json" ]
expect_err "import --from a missing file" 1 "$T/nope.json: no such key file" \
	keys import copy3 --from "$T/nope.json" --keystore "$KS"

expect "import --secret-file (validator, three lines)" 0 \
	keys import fromhex --secret-file "$T/secrets.hex" --keystore "$KS"
expect "export the keyset imported from hex" 0 keys export fromhex --keystore "$KS"
check "secrets imported give the same public keys" \
	python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); del a['name'], b['name']; assert a==b" "$T/out" "$T/val1.pub.json"
check "the hex-imported key file is 0600" [ "$(mode_of "$KS/fromhex.json")" = 600 ]
head -n 2 "$T/secrets.hex" >"$T/two.hex"
expect_err "a secret file with two lines for a validator: names the file" 1 "$T/two.hex: expected 3 secret lines" \
	keys import short --secret-file "$T/two.hex" --keystore "$KS"
sed -n 2p "$T/secrets.hex" | cut -c1-60 >"$T/bad.hex"
expect_err "a malformed secret line: names file and line" 1 "$T/bad.hex: line 1 is not a secp256k1 secret" \
	keys import bad --type secp256k1 --secret-file "$T/bad.hex" --keystore "$KS"
check "the malformed secret is not echoed" bash -c "! grep -qF \"\$(cat '$T/bad.hex')\" '$T/err'"
expect_err "--from and --secret-file together: status 2" 2 "give one of" \
	keys import x --from "$T/backup.json" --secret-file "$T/secrets.hex" --keystore "$KS"

# ---- broken files ------------------------------------------------------------------

expect "keys new cut" 0 keys new cut --keystore "$KS"
head -c 300 "$KS/cut.json" >"$T/cut.tmp" && cat "$T/cut.tmp" >"$KS/cut.json"
expect_err "a truncated file: one line naming the file" 1 "$KS/cut.json: truncated or not JSON (line " \
	keys show cut --keystore "$KS"
expect "list goes on past a broken file (status 0)" 0 keys list --keystore "$KS"
check "list marks the broken file and names it" grep -qF "$(printf 'cut\tbroken\t%s/cut.json: truncated' "$KS")" "$T/out"
check "list still lists the good files" grep -q "^val1	validator	" "$T/out"

expect "keys new tamp" 0 keys new tamp --keystore "$KS"
cp "$KS/tamp.json" "$T/tamp.orig"
# flip one hex digit of the ciphertext
python3 - "$KS/tamp.json" <<'EOF'
import json, sys
p = sys.argv[1]
o = json.load(open(p))
c = o["cipher"]["ciphertext"]
o["cipher"]["ciphertext"] = ("1" if c[10] == "0" else "0").join([c[:10], c[11:]])
json.dump(o, open(p, "w"), indent=2)
EOF
expect "a tampered ciphertext still shows its public keys" 0 keys show tamp --keystore "$KS"
expect_err "a tampered ciphertext fails --verify, naming the file" 1 \
	"$KS/tamp.json: wrong passphrase or tampered file" keys show tamp --verify --keystore "$KS"
cp "$T/tamp.orig" "$KS/tamp.json"
python3 - "$KS/tamp.json" <<'EOF'
import json, sys
p = sys.argv[1]
o = json.load(open(p))
k = o["keys"][2]["public"]
o["keys"][2]["public"] = ("1" if k[0] == "0" else "0") + k[1:]
json.dump(o, open(p, "w"), indent=2)
EOF
expect_err "a tampered public key fails --verify, naming the file" 1 \
	"$KS/tamp.json: wrong passphrase or tampered file" keys show tamp --verify --keystore "$KS"
printf 'not json at all' >"$KS/junk.json"
chmod 600 "$KS/junk.json"
expect_err "a file that is not JSON: one line naming it" 1 "$KS/junk.json: truncated or not JSON" \
	keys export junk --keystore "$KS"

# a FIFO where a key file belongs: refused at once, never waited on
mkfifo -m 600 "$KS/pipe.json"
expect_err "a FIFO as key file: refused without waiting, naming it" 1 "$KS/pipe.json: not a regular file" \
	keys show pipe --keystore "$KS"
expect "list goes on past a FIFO (status 0)" 0 keys list --keystore "$KS"
check "list marks the FIFO broken" grep -qF "$(printf 'pipe\tbroken\t%s/pipe.json: not a regular file' "$KS")" "$T/out"
expect_err "import --from a FIFO: refused without waiting" 1 "$KS/pipe.json: not a regular file" \
	keys import frompipe --from "$KS/pipe.json" --keystore "$KS"
rm -f "$KS/pipe.json"

# ---- missing keys -----------------------------------------------------------------

expect_err "show a missing key: one line naming the file" 1 "$KS/nope.json: no such key file" \
	keys show nope --keystore "$KS"
expect_err "export a missing key" 1 "$KS/nope.json: no such key file" keys export nope --keystore "$KS"
expect_err "--verify a missing key" 1 "$KS/nope.json: no such key file" keys show nope --verify --keystore "$KS"
expect_err "delete a missing key" 1 "$KS/nope.json: no such key file" keys delete nope --yes --keystore "$KS"
expect_err "no keystore directory: show names the key file" 1 "$T/none/x.json: no such key file" \
	keys show x --keystore "$T/none"
expect_err "no keystore directory: list names the directory" 1 "$T/none: keystore directory does not exist" \
	keys list --keystore "$T/none"
check "reading commands create no directory" [ ! -e "$T/none" ]

# ---- permissions --------------------------------------------------------------------

chmod 755 "$KS"
expect_err "a world-readable keystore is refused (list)" 1 "$KS: keystore directory is accessible by group or others (mode 0755)" \
	keys list --keystore "$KS"
expect_err "a world-readable keystore is refused (new)" 1 "accessible by group or others" \
	keys new val9 --keystore "$KS"
check "nothing written into the open directory" [ ! -e "$KS/val9.json" ]
chmod 700 "$KS"
chmod 644 "$KS/val1.json"
expect_err "a group/world-readable key file is refused" 1 "$KS/val1.json: key file is accessible by group or others" \
	keys show val1 --keystore "$KS"
chmod 600 "$KS/val1.json"

# ---- default keystore location ------------------------------------------------------

with ISTHMUS_HOME="$T/ihome" expect "ISTHMUS_HOME/keys is the default keystore" 0 keys new hkey
check "the key is in ISTHMUS_HOME/keys, dir 0700" \
	bash -c "[ -f '$T/ihome/keys/hkey.json' ] && [ \$(stat -c %a '$T/ihome/keys') = 700 ]"
expect "~/.isthmus/keys otherwise" 0 keys new homekey
check "the key is in ~/.isthmus/keys" [ -f "$HOME/.isthmus/keys/homekey.json" ]

# ---- prompts on a terminal ------------------------------------------------------------
# pty_run.py answers the prompts on a pseudo-terminal; what it saw is in $T/tty.

PTY="$(dirname "$0")/pty_run.py"
tty_run() { env -u ISTHMUS_PASSPHRASE python3 "$PTY" "$T/tty" "$@"; rc=$?; cat "$T/tty" >>"$T/all"; }
tty_has() { grep -qF -- "$1" "$T/tty"; }

tty_run 'tty pass 9' 'tty pass 9' -- "$BIN" keys new ttykey --keystore "$KS"
check "new on a terminal: asks twice, status 0" \
	bash -c "[ $rc -eq 0 ] && grep -qF 'Passphrase for ttykey: ' '$T/tty' && grep -qF 'Repeat the passphrase: ' '$T/tty' && [ -f '$KS/ttykey.json' ]"
check "the typed passphrase is not echoed" bash -c "! grep -qF 'tty pass 9' '$T/tty'"
tty_run 'tty pass 9' -- "$BIN" keys show ttykey --verify --keystore "$KS"
check "show --verify on a terminal: asks once, verifies" bash -c "[ $rc -eq 0 ] && grep -q '^verified' '$T/tty'"
tty_run 'one' 'two' -- "$BIN" keys new ttyother --keystore "$KS"
check "different passphrases typed: status 1, nothing written" \
	bash -c "[ $rc -eq 1 ] && grep -qF 'isthmus: the passphrases do not match' '$T/tty' && [ ! -e '$KS/ttyother.json' ]"
tty_run '' -- "$BIN" keys new ttyempty --keystore "$KS"
check "an empty passphrase typed: status 1" bash -c "[ $rc -eq 1 ] && grep -qF 'passphrase is empty' '$T/tty'"
tty_run 'no' -- "$BIN" keys delete ttykey --keystore "$KS"
check "delete not confirmed: status 1, file kept" bash -c "[ $rc -eq 1 ] && [ -f '$KS/ttykey.json' ]"
tty_run 'ttykey' -- "$BIN" keys delete ttykey --keystore "$KS"
check "delete confirmed by typing the name" bash -c "[ $rc -eq 0 ] && [ ! -e '$KS/ttykey.json' ]"

# ---- delete ------------------------------------------------------------------------------

expect_err "delete without --yes and no terminal: status 2" 2 "confirm with --yes" keys delete val1 --keystore "$KS"
check "the key is still there" [ -f "$KS/val1.json" ]
expect "delete --yes" 0 keys delete val1 --yes --keystore "$KS"
check "the key file is gone" [ ! -e "$KS/val1.json" ]
expect_err "show after delete: missing" 1 "$KS/val1.json: no such key file" keys show val1 --keystore "$KS"
expect "a broken file can be deleted" 0 keys delete cut --yes --keystore "$KS"

# ---- secrets never printed unless asked -----------------------------------------------

leaked=0
while read -r s; do
	if grep -qiF -- "$s" "$T/all"; then leaked=1; fi
	if grep -rqiF -- "$s" "$KS" "$T/ihome" "$HOME"; then leaked=1; fi
done <"$T/secrets.hex"
check "no secret in any output or key file (outside --reveal-secret)" [ "$leaked" -eq 0 ]
check "the passphrase is never printed" \
	bash -c "! grep -qF '$PASS' '$T/all' && ! grep -qF 'other passphrase' '$T/all' && ! grep -qF 'tty pass 9' '$T/all'"

finish
