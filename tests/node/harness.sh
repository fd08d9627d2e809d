# The harness of the real-process tests of tests/node (test_node_*.sh), which
# source it after setting TEST_NAME. A TAP producer: one "ok N - ..." or
# "not ok N - ..." per check; the test prints the plan ("1..$n") at the end
# and exits non-zero when $failed is.
#
# It gives the binaries ($BIN, $DBIN, from ISTHMUS_BIN and ISTHMUSD_BIN, set
# by tests/node/meson.build), a private temporary directory $T (removed on
# exit), no passphrase or home from the caller's environment, and the
# processes of tests/node/lib.sh. Every process is killed on exit, whatever
# happens; after a failure the tail of each log ($T/*.log: the nodes', and
# any other process's the test logs there) is printed as TAP comments.
set -u

BIN=${ISTHMUS_BIN:?ISTHMUS_BIN must point to the isthmus binary}
DBIN=${ISTHMUSD_BIN:?ISTHMUSD_BIN must point to the isthmusd binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/isthmus-${TEST_NAME:?}.XXXXXX") || exit 1
# the processes: start, stop, height, block_id, wait_heights, ... (WAIT_S)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup() {
	local p
	kill_nodes
	if [ "${failed:-0}" -ne 0 ] && [ -d "$T" ]; then
		for p in "$T"/*.log; do
			[ -f "$p" ] && tail -n 15 "$p" | sed "s|^|# $(basename "$p"): |"
		done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

unset ISTHMUS_PASSPHRASE ISTHMUS_HOME
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do echo "# $l"; done
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
bail() { echo "Bail out! $*"; failed=1; echo "1..$n"; exit 1; }
