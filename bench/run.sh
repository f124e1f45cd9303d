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
#   OPENSSL          the openssl command that makes the CMS fixtures (default openssl)
#   AGENTBENCH_N     signatures through the agent's confirmation page (default 1000)
#   AGENTBENCH_BATCH signatures in the PIN-cache batch line (default 100)
#   AGENTBENCH_NATIVE signatures through kep native-host, the extension's road
#                    (default AGENTBENCH_N)
#   SERVEBENCH_N     verifications per kep serve measurement (default 20000)
#   BENCH_RUNS       runs of the kep/OpenSSL comparison (default 3): the op= lines
#                    average them, and "spread op=…" lines give each ratio's
#                    min/median/max over the runs
#   BENCH_OPS        an extended regexp of the op names compared (default: all)
#   BENCH_QUICK      1 (make bench-quick): a short subset for development — BENCHTIME
#                    0.3s, one run, the ops of QUICK_OPS below, fewer agent and
#                    kep serve requests, no 1 GiB measurement
#   BENCH_BIG        0 to skip the 1 GiB memory and throughput measurement
#   BIGBENCH_SIZE    bytes of that document (default 1073741824)
# Exit status: non-zero only when the harness cannot be built or nothing at all
# was measured; missing measurements are printed as "# note:" lines.
#
# The operations measured are those `benchcmp -plan` lists (operations() in
# bench/cmd/benchcmp/main.go); this script needs no change when one is added.
# For the cms-verify/<name> operations it first makes the signatures both sides
# verify (step 4) and gives their directory to kep's benchmark as
# KEP_BENCH_CMS_DIR and to the harness as -cms.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
CC=${CC:-gcc}
OPENSSL=${OPENSSL:-openssl}
QUICK_OPS='streebog256|sign/cryptopro-a|verify/cryptopro-a|sign/tc26-256-a|verify/tc26-256-a|sign/tc26-512-a|verify/tc26-512-a|sign/tc26-512-c|verify/tc26-512-c|cms-verify/gost256'
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
	BENCHTIME=${BENCHTIME:-0.3s}
	BENCH_RUNS=${BENCH_RUNS:-1}
	BENCH_OPS=${BENCH_OPS:-$QUICK_OPS}
	AGENTBENCH_N=${AGENTBENCH_N:-100}
	AGENTBENCH_BATCH=${AGENTBENCH_BATCH:-20}
	SERVEBENCH_N=${SERVEBENCH_N:-2000}
	BENCH_BIG=${BENCH_BIG:-0}
fi
BENCHTIME=${BENCHTIME:-1s}
BENCH_RUNS=${BENCH_RUNS:-3}
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
	d=$("$OPENSSL" version -e 2>/dev/null) && d=${d#*\"} && dirs+=("${d%\"*}")
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

opsargs=()
[[ -n ${BENCH_OPS:-} ]] && opsargs=(-ops "$BENCH_OPS")
plan=$("$work/benchcmp" -plan "${opsargs[@]}") || exit 1
[[ -n $plan ]] || { say "BENCH_OPS=$BENCH_OPS selects no operation"; exit 1; }

# 4. CMS fixtures for the cms-verify/<name> operations, made once and verified
# by both sides: <name>/root.pem, leaf.pem, sig.der (detached SignedData from
# `openssl cms -sign` with its default signed attributes) and content.bin
# (32 bytes). The GOST chains need the engine; the RSA one does not.
cmsdir=$work/cms
# make_cms_fixture NAME "ROOT genpkey args" ROOT_MD "LEAF genpkey args" CMS_MD
make_cms_fixture() {
	local d=$cmsdir/$1 rootkey=$2 rootmd=$3 leafkey=$4 cmsmd=$5 conf=()
	[[ -n $engine ]] && conf=(env "OPENSSL_CONF=$work/openssl-gost.cnf")
	mkdir -p "$d" || return 1
	printf '%s\n' '[req]' 'distinguished_name=dn' '[dn]' '[v3]' 'basicConstraints=critical,CA:TRUE' \
		'keyUsage=critical,keyCertSign,cRLSign' 'subjectKeyIdentifier=hash' >"$d/req.cnf" &&
	printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,nonRepudiation' \
		'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' >"$d/leaf.ext" &&
	head -c 32 /dev/urandom >"$d/content.bin" &&
	# shellcheck disable=SC2086 # the key arguments are word lists
	"${conf[@]}" "$OPENSSL" genpkey $rootkey -out "$d/root.key" &&
	"${conf[@]}" "$OPENSSL" req -new -x509 -key "$d/root.key" "-$rootmd" -days 3650 -subj "/CN=kep bench root $1/O=kep/C=RU" \
		-config "$d/req.cnf" -extensions v3 -out "$d/root.pem" &&
	"${conf[@]}" "$OPENSSL" genpkey $leafkey -out "$d/leaf.key" &&
	"${conf[@]}" "$OPENSSL" req -new -key "$d/leaf.key" -subj "/CN=kep bench signer $1/O=kep/C=RU" -config "$d/req.cnf" -out "$d/leaf.csr" &&
	"${conf[@]}" "$OPENSSL" x509 -req -in "$d/leaf.csr" -CA "$d/root.pem" -CAkey "$d/root.key" "-$rootmd" -days 3650 \
		-set_serial 1001 -extfile "$d/leaf.ext" -out "$d/leaf.pem" &&
	"${conf[@]}" "$OPENSSL" cms -sign -binary -md "$cmsmd" -signer "$d/leaf.pem" -inkey "$d/leaf.key" \
		-in "$d/content.bin" -outform DER -out "$d/sig.der"
}
gost256key="-algorithm gost2012_256 -pkeyopt paramset:A"
while IFS=$'\t' read -r op _; do
	[[ $op == cms-verify/* ]] || continue
	name=${op#cms-verify/}
	case $name in
	gost256) args=("$gost256key" md_gost12_256 "$gost256key" md_gost12_256) ;;
	gost512) args=("$gost256key" md_gost12_256 "-algorithm gost2012_512 -pkeyopt paramset:A" md_gost12_512) ;;
	rsa) args=("-algorithm RSA -pkeyopt rsa_keygen_bits:2048" sha256 "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" sha256) ;;
	xl1) continue ;; # kep's own X-L1: sign's BenchmarkXL1Verify writes it into $KEP_BENCH_CMS_DIR/xl1 before the harness runs
	*) say "$op: no CMS fixture recipe in bench/run.sh"; continue ;;
	esac
	if [[ -z $engine && $name == gost* ]]; then
		say "$op: no gost engine, no fixture; kep's benchmark will fail"
		continue
	fi
	if ! make_cms_fixture "$name" "${args[@]}" >"$work/cms.log" 2>&1; then
		say "$op: cannot make the CMS fixture with $OPENSSL; its last lines:"
		tail -n 15 "$work/cms.log" | sed 's/^/    /' >&2
		rm -rf "${cmsdir:?}/$name"
	fi
done <<<"$plan"
export KEP_BENCH_CMS_DIR=$cmsdir

# 5. Measure each operation benchcmp lists, kep's Go benchmark then the harness,
# back to back so that the ratio sees the same machine conditions. Each
# package's test binary is built once.
declare -A testbin=()
sslargs=()
[[ -n $engine ]] && sslargs=(-openssl "$work/openssl.txt")
say "measuring (go -benchtime $BENCHTIME, OpenSSL ${GOSTBENCH_TIME}s per operation, $BENCH_RUNS run(s))"
runargs=()
for ((run = 1; run <= BENCH_RUNS; run++)); do
[[ $BENCH_RUNS -gt 1 ]] && say "run $run of $BENCH_RUNS"
: >"$work/go.$run.txt"
: >"$work/openssl.$run.txt"
runargs+=(-run "$work/go.$run.txt:$work/openssl.$run.txt")
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
		cat "$work/go.last" >>"$work/go.$run.txt"
		if [[ $rc -ne 0 ]]; then
			say "$op: kep's benchmark failed (status $rc); its last lines:"
			tail -n 15 "$work/go.last" | sed 's/^/    /' >&2
		fi
	fi
	if [[ -n $engine ]]; then
		OPENSSL_CONF=$work/openssl-gost.cnf "$build/gostbench" -t "$GOSTBENCH_TIME" -cms "$cmsdir" "$op" >"$work/openssl.last"
		rc=$?
		cat "$work/openssl.last" >>"$work/openssl.txt"
		cat "$work/openssl.last" >>"$work/openssl.$run.txt"
		[[ $rc -ne 0 ]] && say "$op: the OpenSSL harness exited with status $rc"
	fi
done <<<"$plan"
done

# 6. Compare.
goargs=()
[[ -f $work/go.txt ]] && goargs=(-go "$work/go.txt")
[[ $BENCH_RUNS -gt 1 && -n $engine ]] || runargs=()
"$work/benchcmp" "${goargs[@]}" "${sslargs[@]}" "${runargs[@]}" "${opsargs[@]}"

# 7. The agent: its own added latency per signature on the confirmation-page
# road (total minus the token's work minus the wait for the answer, per
# request), over the WebSocket and over the extension's road (kep
# native-host started as a browser starts it, relaying to the agent), the
# bare round trip, and a batch signed with the PIN cache on.
say "measuring the agent (bench/cmd/agentbench)"
agentargs=()
if "$GO" build -o "$work/kep-native" ./cmd/kep; then
	agentargs=(-kep "$work/kep-native" -n-native "${AGENTBENCH_NATIVE:-${AGENTBENCH_N:-1000}}")
else
	say "cannot build kep for the native-messaging road"
fi
"$GO" run ./bench/cmd/agentbench -n "${AGENTBENCH_N:-1000}" -batch "${AGENTBENCH_BATCH:-100}" "${agentargs[@]}" || say "the agent benchmark failed"

# 8. Login verification throughput for a backend (GOST-256, warm CRL cache).
say "measuring login verification (verify/login BenchmarkLoginVerify)"
if out=$("$GO" test -run '^$' -bench BenchmarkLoginVerify -benchtime "$BENCHTIME" ./verify/login 2>&1); then
	echo "$out" | awk '/^BenchmarkLoginVerify/ { for (i = 1; i < NF; i++) if ($(i+1) == "logins/s") r = $i; if ($(4) == "ns/op") t = $3; print "op=login/verify-gost256 logins_per_second=" r " ns_per_login=" t }'
else
	say "the login benchmark failed:"; echo "$out" | tail -n 15 >&2
fi

# 9. kep serve: verifications through the HTTP API (one and two instances)
# against verify.Verify in-process, SERVEBENCH_N each (default 20,000, the
# issue's load test: every answer must be 200 TOTAL_PASSED).
say "measuring kep serve (bench/cmd/servebench)"
if "$GO" build -o "$work/kep" ./cmd/kep; then
	"$GO" run ./bench/cmd/servebench -kep "$work/kep" -n "${SERVEBENCH_N:-20000}" -c 32 || say "the kep serve benchmark failed"
else
	say "cannot build kep for the kep serve benchmark"
fi

# 10. Memory under size: a 1 GiB document signed through kep agent (chunked
# upload, as kep.js sends it) and its detached signature verified by kep
# verify and openssl cms -verify; throughput and peak RSS (bench/cmd/bigbench;
# the document lives in a temporary directory, removed after).
if [[ ${BENCH_BIG:-1} != 0 ]]; then
	say "measuring a 1 GiB document (bench/cmd/bigbench)"
	bigargs=()
	[[ -n $engine ]] && bigargs=(-openssl "$OPENSSL" -openssl-conf "$work/openssl-gost.cnf")
	if "$GO" build -o "$work/kep-big" ./cmd/kep; then
		"$GO" run ./bench/cmd/bigbench -kep "$work/kep-big" -size "${BIGBENCH_SIZE:-1073741824}" "${bigargs[@]}" || say "the 1 GiB benchmark failed"
	else
		say "cannot build kep for the 1 GiB benchmark"
	fi
fi
