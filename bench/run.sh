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

# 3. kep's Go benchmarks: the packages and patterns benchcmp asks for.
goargs=()
n=0
while IFS=$'\t' read -r pkg re; do
	n=$((n + 1))
	if [[ ! -d $pkg ]]; then
		say "$pkg: package not there yet, skipped"
		continue
	fi
	out=$work/go-$n.txt
	say "go test -bench in $pkg (benchtime $BENCHTIME)"
	"$GO" test -count=1 -run '^$' -bench "$re" -benchtime "$BENCHTIME" "$pkg" >"$out" 2>&1
	rc=$?
	if [[ $rc -ne 0 ]]; then
		say "go test $pkg failed (status $rc); its last lines:"
		tail -n 15 "$out" | sed 's/^/    /' >&2
	fi
	goargs+=(-go "$out")
done < <("$work/benchcmp" -plan)

# 4. The OpenSSL harness.
sslargs=()
if [[ -n $engine ]]; then
	say "OpenSSL harness ($engine), ${GOSTBENCH_TIME}s per operation"
	OPENSSL_CONF=$work/openssl-gost.cnf "$build/gostbench" -t "$GOSTBENCH_TIME" >"$work/openssl.txt"
	rc=$?
	[[ $rc -ne 0 ]] && say "the OpenSSL harness exited with status $rc"
	sslargs=(-openssl "$work/openssl.txt")
fi

# 5. Compare.
"$work/benchcmp" "${goargs[@]}" "${sslargs[@]}"
