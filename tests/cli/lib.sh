# Shared harness of the CLI end-to-end tests (tests/cli/test_cli_*.sh), which
# source it after setting TEST_NAME. A TAP producer: one "ok N - ..." or
# "not ok N - ..." per check, and `finish` prints the plan.
#
# It gives the binary ($BIN, from ISTHMUS_BIN, set by tests/cli/meson.build),
# a private temporary directory $T (removed on exit) with HOME inside it, no
# passphrase or home from the caller's environment, and the fast KDF, so
# nothing ever waits on a prompt (stdin is /dev/null for every run).
set -u

BIN=${ISTHMUS_BIN:?ISTHMUS_BIN must point to the isthmus binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/isthmus-${TEST_NAME:?}.XXXXXX") || exit 1
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT

unset ISTHMUS_PASSPHRASE ISTHMUS_HOME
export ISTHMUS_KEYSTORE_KDF=fast
export HOME="$T/home"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do echo "# $l"; done
	sed 's/^/# stderr: /' "$T/err" | head -5
}

# finish: the plan; the exit status says whether every check passed.
finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}

# run ARGS...: runs the binary; stdout in $T/out, stderr in $T/err, status in
# $rc. Everything printed is also kept in $T/all, which must never show a
# secret. A run that hangs is cut off after 60 s (status 124), so that it
# fails its check instead of the whole test timing out.
ENVV=()
run() {
	timeout 60 env "${ENVV[@]}" "$BIN" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	cat "$T/out" "$T/err" >>"$T/all"
}

# with VAR=VALUE CHECK...: runs a check (expect, expect_err) with VAR set;
# without VAR CHECK...: with VAR unset.
with() { local ENVV=("$1"); shift; "$@"; }
without() { local ENVV=(-u "$1"); shift; "$@"; }

# expect DESC STATUS ARGS...
expect() {
	local desc=$1 want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ]; then ok "$desc"; else not_ok "$desc" "status $rc, want $want"; fi
}

# expect_err DESC STATUS TEXT ARGS...: the status, and stderr is exactly one
# line "$PROG: ..." containing TEXT (PROG: the program's name in its error
# lines, "isthmus" unless the test sets it).
PROG=${PROG:-isthmus}
expect_err() {
	local desc=$1 want=$2 text=$3
	shift 3
	run "$@"
	local lines
	lines=$(wc -l <"$T/err")
	if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -q "^$PROG: " "$T/err" && grep -qF -- "$text" "$T/err"; then
		ok "$desc"
	else
		not_ok "$desc" "status $rc (want $want), $lines stderr lines (want 1), want text: $text"
	fi
}

# expect_help CMD...: for each command ("" for the top level, "keys new"),
# `isthmus CMD --help` prints its usage and an example on stdout, nothing on
# stderr, status 0.
expect_help() {
	local cmd
	for cmd in "$@"; do
		# shellcheck disable=SC2086
		run $cmd --help
		if [ "$rc" -eq 0 ] && grep -q '^usage: isthmus' "$T/out" && grep -q 'xample' "$T/out" && [ ! -s "$T/err" ]; then
			ok "'isthmus $cmd --help' prints usage and an example, status 0"
		else
			not_ok "'isthmus $cmd --help' prints usage and an example, status 0" "status $rc"
		fi
	done
}

# check DESC COMMAND...: ok when the command succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc" "failed: $*"; fi
}

# expect_line DESC STATUS LINE ARGS...: the status, and stderr is exactly LINE.
expect_line() {
	local desc=$1 want=$2 line=$3
	shift 3
	run "$@"
	if [ "$rc" -eq "$want" ] && [ "$(cat "$T/err")" = "$line" ]; then
		ok "$desc"
	else
		not_ok "$desc" "status $rc (want $want)" "want: $line"
	fi
}
# edit FILE PYTHON: runs PYTHON with `o` the JSON of FILE, then writes `o` back
edit() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
p, code = sys.argv[1], sys.argv[2]
o = json.load(open(p))
exec(code)
json.dump(o, open(p, "w"), indent=2)
EOF
}

out_has() { grep -qF -- "$1" "$T/out"; }
mode_of() { stat -c %a "$1"; }
