#!/usr/bin/env bash
# deploy-systemd-unit: deploy/systemd/isthmusd.service passes
# `systemd-analyze verify` with no warning, and isthmus.sysusers.conf makes
# the user the unit runs as (suite deploy).
#
# verify wants the programs of ExecStart= and ExecStartPre= to exist, so it
# checks a copy whose /usr/local/bin paths point at the programs of this
# build (ISTHMUS_BIN, ISTHMUSD_BIN); nothing else is changed. The sysusers
# file is applied to an empty root directory (systemd-sysusers --root).
# Exit status: 0 passed, 1 failed, 77 skipped (no systemd-analyze).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
unit=$here/deploy/systemd/isthmusd.service
sysusers=$here/deploy/systemd/isthmus.sysusers.conf
BIN=${ISTHMUS_BIN:?ISTHMUS_BIN must point to the isthmus binary}
DBIN=${ISTHMUSD_BIN:?ISTHMUSD_BIN must point to the isthmusd binary}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/isthmus-unit.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failed=0

grep -q '^ExecStart=/usr/local/bin/isthmusd ' "$unit" || { echo "FAIL: $unit: ExecStart= is not /usr/local/bin/isthmusd"; exit 1; }
sed -e "s|/usr/local/bin/isthmusd |$DBIN |" -e "s|/usr/local/bin/isthmus |$BIN |" "$unit" >"$T/isthmusd.service"
if grep -q '/usr/local/bin/' "$T/isthmusd.service"; then
	echo "FAIL: the unit names a program of /usr/local/bin this test does not map to the build"
	exit 1
fi
out=$(cd "$T" && systemd-analyze verify "$T/isthmusd.service" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	echo "ok - systemd-analyze verify isthmusd.service: no error, no warning"
else
	echo "FAIL: systemd-analyze verify (status $rc):"
	printf '%s\n' "$out" | sed 's/^/  /'
	failed=1
fi

# the settings the operator guide promises
for want in 'User=isthmus' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'StateDirectory=isthmus' 'LimitCORE=0' 'Restart=on-failure' \
	'LoadCredential=passphrase:/etc/isthmus/passphrase'; do
	if ! grep -qx "$want" "$unit"; then
		echo "FAIL: $unit has no line '$want'"
		failed=1
	fi
done
[ $failed -eq 0 ] && echo "ok - the unit has the hardening and the credential the operator guide describes"

if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$T/root/etc"
	if systemd-sysusers --root="$T/root" "$sysusers" >/dev/null 2>&1 &&
	   grep -q '^isthmus:x:[0-9]*:[0-9]*:[^:]*:/var/lib/isthmus:/usr/sbin/nologin$' "$T/root/etc/passwd" &&
	   grep -q '^isthmus:x:' "$T/root/etc/group"; then
		echo "ok - isthmus.sysusers.conf makes the system user and group isthmus (home /var/lib/isthmus, no shell)"
	else
		echo "FAIL: systemd-sysusers with $sysusers did not make the user isthmus"
		failed=1
	fi
else
	echo "ok - systemd-sysusers is not installed: isthmus.sysusers.conf not checked"
fi
exit $failed
