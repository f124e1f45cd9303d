#!/usr/bin/env bash
# Certificates as the field writes them, for the "liberal where it is safe"
# tests (certs/field_test.go). Sources: every key, certificate and signature
# here is made by OpenSSL 3 with the gost engine (libengine-gost-openssl);
# patch.go then rewrites the to-be-signed part the way the named producer
# does and OpenSSL signs the rewritten bytes again, so each fixture's
# signature is valid over exactly its bytes:
#   ca.pem               GOST 2012-256 CryptoPro-A root (plain OpenSSL).
#   ber-boolean-ca.pem   intermediate CA whose critical flags and basicConstraints cA
#                        are BER TRUE 0x01, as a JavaScript GOST library writes them.
#   ber-boolean-leaf.pem signer certificate issued by ca.pem with critical flags 0x01.
#   dp94-leaf.pem        CryptoPro-A 2012-256 signer key whose digestParamSet names
#                        GOST R 34.11-94 (1.2.643.2.2.30.1), as Bouncy Castle writes.
#   gost2001.pem         self-signed GOST R 34.10-2001 (CryptoPro-A) certificate signed with
#                        GOST R 34.11-94, plain OpenSSL (a fuzz seed for 2001 verification).
#   *.key                the private keys (test keys, no value).
# Run from this directory: bash generate.sh (needs openssl, the gost engine and go).
set -euo pipefail
cd "$(dirname "$0")"
ENGINE=${KEP_GOST_ENGINE:-/usr/lib/x86_64-linux-gnu/engines-3/gost.so}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cat > "$T/gost.cnf" <<CNF
openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
dynamic_path = $ENGINE
default_algorithms = ALL
CNF
export OPENSSL_CONF="$T/gost.cnf"
cat > "$T/x.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
key() { openssl genpkey -algorithm gost2012_256 -pkeyopt paramset:A -out "$1"; }
key ca.key; key ber-boolean-ca.key; key ber-boolean-leaf.key; key dp94-leaf.key
openssl req -new -x509 -key ca.key -md_gost12_256 -days 7300 -subj "/CN=kep field root/O=kep/C=RU" \
	-config "$T/x.cnf" -extensions v3_ca -out ca.pem
issue() { # name extensions serial
	openssl req -new -key "$1.key" -subj "/CN=$1/O=kep/C=RU" -config "$T/x.cnf" -out "$T/$1.csr"
	openssl x509 -req -in "$T/$1.csr" -CA ca.pem -CAkey ca.key -md_gost12_256 -days 7000 -set_serial "$3" \
		-extfile "$T/x.cnf" -extensions "$2" -out "$T/$1.orig.pem"
}
resign() { # name mode
	go run patch.go "$2" "$T/$1.orig.pem" "$T/$1.tbs"
	openssl dgst -md_gost12_256 -sign ca.key -out "$T/$1.sig" "$T/$1.tbs"
	go run patch.go assemble "$T/$1.orig.pem" "$T/$1.tbs" "$T/$1.sig" "$1.pem"
}
issue ber-boolean-ca v3_ca 101; resign ber-boolean-ca berbool
issue ber-boolean-leaf v3_leaf 102; resign ber-boolean-leaf berbool
issue dp94-leaf v3_leaf 103; resign dp94-leaf dp94
openssl genpkey -algorithm gost2001 -pkeyopt paramset:A -out gost2001.key
openssl req -new -x509 -key gost2001.key -md_gost94 -days 7300 -subj "/CN=kep GOST 2001/O=kep/C=RU" \
	-config "$T/x.cnf" -extensions v3_ca -out gost2001.pem
echo "field fixtures written"
