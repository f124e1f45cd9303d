#!/usr/bin/env bash
# Mutation testing of the packages that decide verdicts (make mutate).
#
# Runs gremlins (github.com/go-gremlins/gremlins) on each package in turn,
# each bounded by MUTATE_TIMEOUT, keeps each package's full output in
# OUT/<package>.txt and prints, per package, the killed and lived mutants and
# the test efficacy (killed / (killed + lived)), then the lived mutants. A
# package cut off by its timeout is reported with the mutants tested so far
# and marked "partial".
#
#   GREMLINS        the gremlins binary (make mutate installs a pinned one)
#   MUTATE_PKGS     packages, relative to the module root
#   MUTATE_TIMEOUT  per package, as timeout(1) takes it (default 40m)
#   MUTATE_WORKERS  gremlins workers (default 1)
#   MUTATE_COEFF    gremlins --timeout-coefficient: a mutant's test run may take
#                   this many times the coverage run (default 15; the machine
#                   is shared and every run recompiles)
#   MUTATE_MIN      when set (e.g. 85), exit 1 if a package's efficacy is lower
#   OUT             where the outputs go (default bin/mutate)
#
# Not --test-cpu: gremlins 0.6.0 passes it to go test as the single argument
# "-cpu N", which go test rejects, so every mutant would count as killed.
# Limit the CPUs with GOMAXPROCS in the environment instead.
set -u -o pipefail

GREMLINS=${GREMLINS:-gremlins}
MUTATE_PKGS=${MUTATE_PKGS:-"internal/ber internal/cms sign verify verify/login certs certs/revocation agent"}
MUTATE_TIMEOUT=${MUTATE_TIMEOUT:-40m}
MUTATE_WORKERS=${MUTATE_WORKERS:-1}
MUTATE_COEFF=${MUTATE_COEFF:-15}
MUTATE_MIN=${MUTATE_MIN:-}
OUT=${OUT:-bin/mutate}

mkdir -p "$OUT"
summary=()
lived=()
status=0
for pkg in $MUTATE_PKGS; do
	file="$OUT/$(echo "$pkg" | tr / _).txt"
	echo "== $pkg (at most $MUTATE_TIMEOUT; output in $file)"
	start=$SECONDS
	# --exclude-files /: gremlins walks the package's directory recursively
	# and would mutate its sub-packages too (verify's login and protocol,
	# certs' revocation and trustlist, agent's…), each listed on its own; the
	# paths it matches are relative to the package directory.
	# -k: on TERM gremlins 0.6.0 says "Shutting down gracefully..." and goes
	# on testing the remaining mutants; KILL it a minute later.
	# Its copies of the module (one per worker) go in a directory of our own,
	# removed afterwards: a killed gremlins leaves them behind.
	tmp=$(mktemp -d)
	TMPDIR=$tmp timeout -k 1m "$MUTATE_TIMEOUT" "$GREMLINS" unleash --workers "$MUTATE_WORKERS" \
		--timeout-coefficient "$MUTATE_COEFF" --exclude-files / "./$pkg" >"$file" 2>&1
	rc=$?
	rm -rf "$tmp"
	took=$((SECONDS - start))
	results="$file.results"
	# On the timeout's signal gremlins prints "Shutting down gracefully..."
	# and then reports the mutants in flight as LIVED (a test run ended by a
	# signal counts as passing): only the results before that line count.
	sed '/Shutting down gracefully/q' "$file" | grep -E '^ *(KILLED|LIVED|TIMED OUT) ' >"$results"
	note=""
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		note=" partial: cut off after $MUTATE_TIMEOUT"
		status=1
	elif [ "$rc" != 0 ] || ! grep -q '^Test efficacy' "$file"; then
		note=" gremlins failed (exit $rc), see $file"
		status=1
	fi
	killed=$(grep -c '^ *KILLED ' "$results")
	alive=$(grep -c '^ *LIVED ' "$results")
	timedout=$(grep -c '^ *TIMED OUT ' "$results")
	if [ $((killed + alive)) -gt 0 ]; then
		eff=$(awk -v k="$killed" -v l="$alive" 'BEGIN { printf "%.2f", 100 * k / (k + l) }')
	else
		eff="n/a"
	fi
	if [ -n "$MUTATE_MIN" ] && [ "$eff" != "n/a" ] && awk -v e="$eff" -v m="$MUTATE_MIN" 'BEGIN { exit !(e < m) }'; then
		note="$note below $MUTATE_MIN%"
		status=1
	fi
	summary+=("$(printf '%-18s killed %4d  lived %4d  timed out %3d  efficacy %7s%%  (%ds)%s' "$pkg" "$killed" "$alive" "$timedout" "$eff" "$took" "$note")")
	while IFS= read -r l; do lived+=("$pkg: ${l#"${l%%[! ]*}"}"); done < <(grep '^ *LIVED ' "$results")
	echo "${summary[-1]}"
done

echo
echo "Test efficacy per package (killed / (killed + lived)):"
printf '  %s\n' "${summary[@]}"
if [ "${#lived[@]}" -gt 0 ]; then
	echo "Lived mutants (a test should kill each, or it is equivalent):"
	printf '  %s\n' "${lived[@]}"
fi
exit $status
