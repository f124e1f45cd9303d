#!/usr/bin/env bash
# Runs Mozilla's web-ext (pinned), installing it from npm into bin/tools/web-ext
# the first time: scripts/web-ext.sh lint --source-dir DIR
set -euo pipefail
VERSION=10.7.0
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/bin/tools/web-ext"
bin="$dir/node_modules/.bin/web-ext"
if [ ! -x "$bin" ] || [ "$(cat "$dir/.version" 2>/dev/null)" != "$VERSION" ]; then
	mkdir -p "$dir"
	npm install --prefix "$dir" --no-audit --no-fund --silent "web-ext@$VERSION" >&2
	echo "$VERSION" >"$dir/.version"
fi
# One of web-ext's npm dependencies (flatted) ships Go code: a go.mod here
# makes bin/tools a module of its own, so kep's `go list ./...` (and vet and
# test) leave it out.
[ -f "$root/bin/tools/go.mod" ] || printf 'module kep.invalid/tools\n' >"$root/bin/tools/go.mod"
exec "$bin" --no-config-discovery "$@"
