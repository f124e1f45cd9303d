#!/usr/bin/env bash
# Runs every fuzz target in the module for a bounded time each and reports
# each one:
#
#   PASS   pkg FuzzXxx
#   FAIL   pkg FuzzXxx: <reason>     a crash: a new input under testdata/fuzz/FuzzXxx/,
#                                    "Failing input written to", a failing seed corpus
#                                    entry or a panic; or the target did not build or run
#   FLAKY  pkg FuzzXxx: <reason>     the fuzzing engine failed ("context deadline exceeded",
#                                    a worker that hung or died) without a failing input;
#                                    the target is run once more and both runs are reported
#
# then a summary line, and exits 1 when any target FAILed, 0 otherwise (a
# FLAKY target does not fail the run). Every target runs whatever the others did.
#
# Usage: scripts/fuzz.sh [FUZZTIME]     (default $FUZZTIME, else 20s)
# Environment:
#   FUZZ_PKGS     packages to fuzz (default ./...), e.g. FUZZ_PKGS='./internal/...'
#   FUZZ_TARGETS  an extended regular expression the target names must match (default all)
#   FUZZ_LOGDIR   where each target's output is kept (default a new temporary directory)
#   GO            the go command (default go)
set -uo pipefail
t=${1:-${FUZZTIME:-20s}}
go=${GO:-go}
cd "$(dirname "$0")/.." || exit 2
logdir=${FUZZ_LOGDIR:-$(mktemp -d "${TMPDIR:-/tmp}/kep-fuzz.XXXXXX")}
mkdir -p "$logdir" || exit 2

# corpus_files DIR: the inputs saved for a target, one a line.
corpus_files() {
	if [ -d "$1" ]; then find "$1" -type f | LC_ALL=C sort; fi
}

# classify LOG NEWFILES: prints "crash <reason>", "flaky <reason>" or
# "error <reason>" for a failed run.
classify() {
	local log=$1 new=$2 line
	if [ -n "$new" ]; then
		echo "crash new failing input $(head -n1 <<<"${new//"$PWD/"/}")"
	elif line=$(grep -m1 -E 'Failing input written to|failure while testing seed corpus entry' "$log"); then
		echo "crash ${line#"${line%%[![:space:]]*}"}"
	elif line=$(grep -m1 -E '^panic: |fatal error: ' "$log"); then
		echo "crash $line"
	elif line=$(grep -m1 -E 'context deadline exceeded|fuzzing process hung or terminated unexpectedly|fuzzing process terminated without fuzzing' "$log"); then
		echo "flaky ${line#"${line%%[![:space:]]*}"} (no failing input)"
	else
		line=$(grep -v -E '^(FAIL|exit status|ok|PASS)\b|^#|^\s*$' "$log" | head -n1)
		echo "error ${line:-exit status $3}"
	fi
}

# run_target PKG DIR TARGET N: runs one target once; sets out_kind
# (pass/crash/flaky/error) and out_reason.
run_target() {
	local pkg=$1 dir=$2 f=$3 n=$4 log before after new rc
	log="$logdir/$(tr '/.' '__' <<<"$pkg").$f.$n.log"
	before=$(corpus_files "$dir/testdata/fuzz/$f")
	"$go" test -run='^$' -fuzz="^$f\$" -fuzztime="$t" "$pkg" >"$log" 2>&1
	rc=$?
	after=$(corpus_files "$dir/testdata/fuzz/$f")
	new=$(LC_ALL=C comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep -v '^$')
	out_log=$log
	if [ $rc -eq 0 ] && [ -z "$new" ]; then
		out_kind=pass out_reason=
		return
	fi
	local c
	c=$(classify "$log" "$new" "$rc")
	out_kind=${c%% *} out_reason=${c#* }
}

# excerpt LOG: what a failed run said, indented: from the first failure line
# on (at most 12 lines), then where its input was written.
excerpt() {
	{
		awk '/--- FAIL|^panic: |fatal error: |failure while testing|^#|\.go:[0-9]+:[0-9]+: / { on = 1 } on && n < 12 { print; n++ }' "$1"
		grep -E 'Failing input written to|To re-run:|go test -run=' "$1"
	} | awk '!seen[$0]++' | sed 's/^/	| /'
}

targets=0 passed=0 crashed=0 flaky=0 errors=0
pkgs=$("$go" list -f '{{.ImportPath}} {{.Dir}}' ${FUZZ_PKGS:-./...}) || {
	echo "fuzz: go list ${FUZZ_PKGS:-./...} failed" >&2
	exit 2
}
while read -r pkg dir; do
	[ -n "$pkg" ] || continue
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		if [ -n "${FUZZ_TARGETS:-}" ] && ! grep -qE -- "$FUZZ_TARGETS" <<<"$f"; then
			continue
		fi
		targets=$((targets + 1))
		run_target "$pkg" "$dir" "$f" 1
		if [ "$out_kind" = flaky ]; then
			first=$out_reason first_log=$out_log
			run_target "$pkg" "$dir" "$f" 2
			case $out_kind in
			pass) out_kind=flaky out_reason="$first on the first run; the retry passed" ;;
			flaky) out_reason="$first on the first run, $out_reason on the retry" ;;
			*) out_reason="$out_reason (on the retry; the first run: $first)" ;;
			esac
			[ "$out_kind" != flaky ] || out_log=$first_log
		fi
		case $out_kind in
		pass)
			passed=$((passed + 1))
			echo "PASS   $pkg $f"
			;;
		flaky)
			flaky=$((flaky + 1))
			echo "FLAKY  $pkg $f: $out_reason (log: $out_log)"
			;;
		crash)
			crashed=$((crashed + 1))
			echo "FAIL   $pkg $f: $out_reason (log: $out_log)"
			excerpt "$out_log"
			;;
		*)
			errors=$((errors + 1))
			echo "FAIL   $pkg $f: did not run: $out_reason (log: $out_log)"
			excerpt "$out_log"
			;;
		esac
	done
done <<<"$pkgs"

summary="fuzz: $targets targets, $passed passed, $crashed crashed, $flaky flaky"
[ $errors -eq 0 ] || summary="$summary, $errors did not run"
echo "$summary ($t each; logs in $logdir)"
[ $crashed -eq 0 ] && [ $errors -eq 0 ]
