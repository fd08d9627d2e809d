#!/usr/bin/env bash
# deploy-prometheus: the Prometheus files of deploy/ (suite deploy).
#
#   - `promtool check rules` accepts deploy/prometheus/alerts.yml;
#   - `promtool test rules` runs deploy/prometheus/alerts_test.yml: chosen
#     alerts fire on the series that should fire them, and stay quiet on a
#     healthy network;
#   - every isthmus_* metric the rules use is one the programs export: a name
#     (or a name's _bucket/_sum/_count) that the sources register
#     (src/**/*.c), so a renamed metric fails here, not silently in an
#     operator's Prometheus;
#   - `promtool check config` accepts deploy/prometheus/prometheus.yml (with
#     rule_files pointed at the file here).
# Exit status: 0 passed, 1 failed, 77 skipped (no promtool: Debian package
# prometheus, which tools/setup installs).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=$here/deploy/prometheus
if ! command -v promtool >/dev/null 2>&1; then
	echo "SKIP: promtool is not installed (Debian package prometheus; tools/setup installs it)"
	exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/isthmus-prom.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failed=0

if out=$(promtool check rules "$dir/alerts.yml" 2>&1); then
	echo "ok - promtool check rules alerts.yml: $(printf '%s\n' "$out" | grep -o '[0-9]* rules found')"
else
	echo "FAIL: promtool check rules alerts.yml:"; printf '%s\n' "$out" | sed 's/^/  /'; failed=1
fi
if out=$(cd "$dir" && promtool test rules alerts_test.yml 2>&1); then
	echo "ok - promtool test rules alerts_test.yml"
else
	echo "FAIL: promtool test rules alerts_test.yml:"; printf '%s\n' "$out" | sed 's/^/  /'; failed=1
fi

# the metric names in the rules' expressions, against the sources'
used=$(grep -E '^ *expr:' "$dir/alerts.yml" | grep -oE 'isthmus_[a-z0-9_]+' | sort -u)
missing=
for m in $used; do
	base=$(printf '%s' "$m" | sed -E 's/_(bucket|sum|count)$//')
	if ! grep -rqF "\"$m\"" "$here/src" && ! grep -rqF "\"$base\"" "$here/src"; then
		missing="$missing $m"
	fi
done
if [ -z "$missing" ]; then
	echo "ok - the $(printf '%s\n' "$used" | grep -c .) isthmus_* metrics the rules use are registered in src/"
else
	echo "FAIL: metrics in alerts.yml that no source registers:$missing"; failed=1
fi

sed "s|/etc/prometheus/alerts.yml|$dir/alerts.yml|" "$dir/prometheus.yml" >"$T/prometheus.yml"
if out=$(promtool check config "$T/prometheus.yml" 2>&1); then
	echo "ok - promtool check config prometheus.yml"
else
	echo "FAIL: promtool check config prometheus.yml:"; printf '%s\n' "$out" | sed 's/^/  /'; failed=1
fi
exit $failed
