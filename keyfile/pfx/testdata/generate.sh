#!/bin/sh
# Makes openssl-sha1-3des.pfx, a FuzzDecode seed: a throwaway GOST R
# 34.10-2012 256-bit key (TC26-A) and its self-signed certificate, exported
# by OpenSSL with the gost engine in CryptoPro CSP's outer shape — the
# certificate safe under pbeWithSHAAnd3-KeyTripleDES-CBC, an HMAC-SHA-1 MAC
# (RFC 7292) — and the key under gost89; password "p". Needs the gost
# engine (libengine-gost-openssl; `make deps`).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
engine=${KEP_GOST_ENGINE:-$(ls /usr/lib/*/engines-3/gost.so /usr/lib64/engines-3/gost.so 2>/dev/null | head -n 1)}
cat >"$tmp/openssl.cnf" <<CNF
openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
dynamic_path = $engine
default_algorithms = ALL
[req]
distinguished_name = dn
[dn]
CNF
export OPENSSL_CONF="$tmp/openssl.cnf"
openssl genpkey -algorithm gost2012_256 -pkeyopt paramset:TCA -out "$tmp/key.pem"
openssl req -new -x509 -key "$tmp/key.pem" -md_gost12_256 -days 3650 -subj "/CN=kep fuzz seed" -out "$tmp/cert.pem"
openssl pkcs12 -export -inkey "$tmp/key.pem" -in "$tmp/cert.pem" -name "kep fuzz seed" \
	-keypbe gost89 -certpbe PBE-SHA1-3DES -macalg sha1 -iter 1 -maciter -passout pass:p -out openssl-sha1-3des.pfx
