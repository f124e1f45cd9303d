#!/usr/bin/env bash
# bench/run.sh — kep's `make bench`: measures kep's pure-Go GOST primitives and
# OpenSSL 3.0 + the gost engine side by side in one run and prints, per operation,
#   op=<name> kep=<value> openssl=<value> ratio=<kep/openssl>
# (format and the list of operations: bench/cmd/benchcmp/main.go; the OpenSSL
# side: bench/openssl/gostbench.c). Progress and errors go to stderr.
#
# Environment:
#   BENCHTIME        go test -benchtime (default 1s); when it is in seconds ("2s",
#                    "0.5s") it also sets the harness's time per operation
#   GOSTBENCH_TIME   the harness's seconds per operation (overrides the above)
#   KEP_GOST_ENGINE  path of the gost engine (gost.so); searched for otherwise
#   GO, CC           the go command and C compiler (default go, gcc)
# Exit status: non-zero only when the harness cannot be built or nothing at all
# was measured; missing measurements are printed as "# note:" lines.
#
# The operations measured are those `benchcmp -plan` lists (operations() in
# bench/cmd/benchcmp/main.go); this script needs no change when one is added.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
CC=${CC:-gcc}
BENCHTIME=${BENCHTIME:-1s}
if [[ -z ${GOSTBENCH_TIME:-} ]]; then
	GOSTBENCH_TIME=1
	[[ $BENCHTIME =~ ^([0-9]+(\.[0-9]+)?)s$ ]] && GOSTBENCH_TIME=${BASH_REMATCH[1]}
fi
say() { echo "bench: $*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/kep-bench.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# 1. Build the OpenSSL harness and the comparison tool.
build=bench/openssl/build
mkdir -p "$build"
if ! "$CC" -O2 -Wall -Wextra -o "$build/gostbench.$$" bench/openssl/gostbench.c -lcrypto; then
	rm -f "$build/gostbench.$$"
	say "cannot build the OpenSSL harness (it needs gcc and libssl-dev: make deps)"
	exit 1
fi
mv -f "$build/gostbench.$$" "$build/gostbench"
"$GO" build -o "$work/benchcmp" ./bench/cmd/benchcmp || { say "cannot build bench/cmd/benchcmp"; exit 1; }

# 2. Find the gost engine and write an OpenSSL config that loads it.
engine=${KEP_GOST_ENGINE:-}
if [[ -z $engine ]]; then
	dirs=()
	d=$(openssl version -e 2>/dev/null) && d=${d#*\"} && dirs+=("${d%\"*}")
	d=$("$CC" -print-multiarch 2>/dev/null) && [[ -n $d ]] && dirs+=("/usr/lib/$d/engines-3")
	dirs+=(/usr/lib/*-linux-gnu/engines-3 /usr/lib64/engines-3 /usr/lib/engines-3)
	for d in "${dirs[@]}"; do
		if [[ -f $d/gost.so ]]; then engine=$d/gost.so; break; fi
	done
fi
if [[ -n $engine ]]; then
	cat >"$work/openssl-gost.cnf" <<CNF
openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
dynamic_path = $engine
default_algorithms = ALL
CNF
else
	say "gost engine not found (install libengine-gost-openssl: make deps, or set KEP_GOST_ENGINE); no OpenSSL figures"
fi

# 3. Check that the harness can load the engine.
if [[ -n $engine ]] && ! OPENSSL_CONF=$work/openssl-gost.cnf "$build/gostbench" -check >/dev/null; then
	say "the OpenSSL harness cannot use $engine; no OpenSSL figures"
	engine=
fi

# 4. Measure each operation benchcmp lists, kep's Go benchmark then the harness,
# back to back so that the ratio sees the same machine conditions. Each
# package's test binary is built once.
plan=$("$work/benchcmp" -plan) || exit 1
declare -A testbin=()
sslargs=()
[[ -n $engine ]] && sslargs=(-openssl "$work/openssl.txt")
say "measuring (go -benchtime $BENCHTIME, OpenSSL ${GOSTBENCH_TIME}s per operation)"
while IFS=$'\t' read -r op pkg re; do
	if [[ $pkg != - && -z ${testbin[$pkg]+set} ]]; then
		testbin[$pkg]=
		bin=$work/test-${#testbin[@]}
		if [[ ! -d $pkg ]]; then
			say "$pkg: package not there yet, its benchmarks are skipped"
		elif ! "$GO" test -c -o "$bin" "$pkg" >"$work/build.log" 2>&1; then
			say "$pkg: its tests do not build, its benchmarks are skipped:"
			tail -n 15 "$work/build.log" | sed 's/^/    /' >&2
		elif [[ ! -x $bin ]]; then
			say "$pkg: no test files yet, its benchmarks are skipped"
		else
			testbin[$pkg]=$bin
		fi
	fi
	if [[ $pkg != - && -n ${testbin[$pkg]} ]]; then
		(cd "$pkg" && "${testbin[$pkg]}" -test.run '^$' -test.bench "$re" -test.benchtime "$BENCHTIME") \
			>"$work/go.last" 2>&1
		rc=$?
		cat "$work/go.last" >>"$work/go.txt"
		if [[ $rc -ne 0 ]]; then
			say "$op: kep's benchmark failed (status $rc); its last lines:"
			tail -n 15 "$work/go.last" | sed 's/^/    /' >&2
		fi
	fi
	if [[ -n $engine ]]; then
		OPENSSL_CONF=$work/openssl-gost.cnf "$build/gostbench" -t "$GOSTBENCH_TIME" "$op" >>"$work/openssl.txt"
		rc=$?
		[[ $rc -ne 0 ]] && say "$op: the OpenSSL harness exited with status $rc"
	fi
done <<<"$plan"

# 5. Compare.
goargs=()
[[ -f $work/go.txt ]] && goargs=(-go "$work/go.txt")
"$work/benchcmp" "${goargs[@]}" "${sslargs[@]}"
