#!/bin/sh
# Makes the unit tests' fixtures: ca.pem (the demo CAs) and hello.sig, a
# detached CAdES-BES signature of hello.txt by the demo person (GOST-256).
# The integration tests make their own PKI each run (internal/demopki).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kep demo init "$tmp/d" >/dev/null
cp "$tmp/d/ca.pem" ca.pem
tp=$(python3 -c "import json,sys; print([i['thumbprint'] for i in json.load(open(sys.argv[1]))['identities'] if i['role']=='person'][0])" "$tmp/d/demo.json")
printf 'hello\n' >hello.txt
KEP_PIN=12345678 kep sign --soft "$tmp/d/token" --cert "$tp" -o hello.sig hello.txt
