#!/bin/sh
# Verify a detached signature with kep serve (curl). Usage: verify.sh FILE.sig FILE
# The parts go in this order: signature, options, content (the content is
# hashed as it arrives, so a file of any size is fine).
set -eu
curl -sS --fail-with-body \
  -H "Authorization: Bearer $KEP_API_KEY" \
  -F "signature=@$1" \
  -F 'options={"profile":"cades-bes"};type=application/json' \
  -F "content=@$2" \
  "${KEP_URL:-http://127.0.0.1:8780}/v1/signatures/verify"
