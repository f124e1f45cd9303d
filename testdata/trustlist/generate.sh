#!/usr/bin/env bash
# Regenerates the sample list of accredited CAs (tsl.xml) and the test CAs'
# certificates and keys beside it. See generate.go for what is in it.
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./testdata/trustlist/generate.go testdata/trustlist
# Check: the list parses and says what the tests expect.
go test -count=1 -run 'TestSample' ./certs/trustlist
