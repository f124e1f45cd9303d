#!/usr/bin/env bash
# Regenerates the fixture PKI in this directory with OpenSSL 3 and the gost engine
# (Debian: openssl, libengine-gost-openssl). Idempotent: it removes the files it
# made before and writes them again (new keys each run; names, subjects, serials
# and dates stay the same).
#
# Validity windows are fixed, not relative to now: validate at 2026-06-01T00:00:00Z.
# The "good" certificates are valid 2025-01-01 .. 2035-01-01, so "now" works too
# until 2035. The expected outcome of every certificate is in README.md; the end
# of this script checks those outcomes with openssl verify / cms and fails if the
# fixture disagrees.
#
# KEP_GOST_ENGINE=/path/to/gost.so overrides the engine search.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD

AT_ISO=2026-06-01T00:00:00Z
GOOD_FROM=250101000000Z
GOOD_TO=350101000000Z

# ---------------------------------------------------------------- engine config
engine=${KEP_GOST_ENGINE:-}
if [[ -z $engine ]]; then
	ed=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
	for d in /usr/lib/x86_64-linux-gnu/engines-3 /usr/lib/*-linux-gnu/engines-3 ${ed:+"$ed"} \
		/usr/lib64/engines-3 /usr/lib/engines-3 /usr/local/lib*/engines-3; do
		[[ -f $d/gost.so ]] && { engine=$d/gost.so; break; }
	done
fi
[[ -n $engine && -f $engine ]] || {
	echo "generate.sh: gost engine not found (install libengine-gost-openssl or set KEP_GOST_ENGINE)" >&2
	exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The engine is loaded once, by the library, from OPENSSL_CONF. The -config files
# given to req/ca below have no openssl_conf line, so they do not load it again
# (loading the engine twice fails with "engine already loaded"-style errors).
cat >"$work/gost.cnf" <<CNF
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
export OPENSSL_CONF=$work/gost.cnf

# run CMD...: runs an openssl command quietly, shows its stderr only on failure.
run() {
	if ! "$@" 2>"$work/stderr"; then
		echo "generate.sh: failed: $*" >&2
		cat "$work/stderr" >&2
		exit 1
	fi
}

printf 'kep' | run openssl dgst -md_gost12_256 >/dev/null ||
	{ echo "generate.sh: the gost engine at $engine does not load" >&2; exit 1; }

# ------------------------------------------------------- Russian check digits
# СНИЛС: 9 digits, then two check digits: sum of digit*(9..1), mod 101, 100 -> 00.
snils() {
	local b=$1 s=0 i
	for i in {0..8}; do s=$((s + ${b:i:1} * (9 - i))); done
	s=$((s % 101 % 100))
	printf '%s%02d' "$b" "$s"
}
_innw() { # weights digits -> check digit
	local -a w=($1)
	local d=$2 s=0 i
	for i in "${!w[@]}"; do s=$((s + ${d:i:1} * w[i])); done
	echo $((s % 11 % 10))
}
# ИНН ЮЛ (legal entity): 9 digits + 1 check digit.
inn10() { echo "$1$(_innw '2 4 10 3 5 9 4 6 8' "$1")"; }
# ИНН of a person: 10 digits + 2 check digits.
inn12() {
	local d=$1
	d=$d$(_innw '7 2 4 10 3 5 9 4 6 8' "$d")
	d=$d$(_innw '3 7 2 4 10 3 5 9 4 6 8' "$d")
	echo "$d"
}
# ОГРН: 12 digits + (the twelve as a number mod 11) mod 10.
ogrn() { echo "$1$(((10#$1 % 11) % 10))"; }

# Self-test of the check digit helpers against well-known numbers.
[[ $(snils 112233445) == 11223344595 && $(inn12 5001007322) == 500100732259 &&
	$(inn10 770708389) == 7707083893 && $(ogrn 102770013219) == 1027700132195 ]] ||
	{ echo "generate.sh: check digit helpers are wrong" >&2; exit 1; }

# Fictitious identifiers (well-formed, with valid check digits).
CA_INNLE=$(inn10 770100001)          # the test CA operator
CA_OGRN=$(ogrn 102770000001)
PERSON_SNILS=$(snils 112233445)      # Иванов Иван Иванович
PERSON_INN=$(inn12 5001007322)
TC26_SNILS=$(snils 987654321)        # Петров Пётр Петрович
TC26_INN=$(inn12 7712345678)
ORG_INNLE=$(inn10 770912345)         # ООО «Ромашка»
ORG_OGRN=$(ogrn 112774612345)
DIRECTOR_SNILS=$(snils 123456789)    # Сидорова Анна Сергеевна, its director

# ---------------------------------------------------------- openssl ca config
# One configuration for every CA; $ENV::CADB selects the CA's database.
export CADB=$work # openssl req parses this file too, so CADB must be set
cat >"$work/ca.cnf" <<'CNF'
oid_section = oids
[oids]
# OpenSSL 3.0 knows INN (1.2.643.3.131.1.1), OGRN, SNILS, OGRNIP but has no
# name for the INN of a legal entity.
INNLE = 1.2.643.100.4
[ca]
default_ca = ca_default
[ca_default]
database = $ENV::CADB/index.txt
serial = $ENV::CADB/serial
crlnumber = $ENV::CADB/crlnumber
new_certs_dir = $ENV::CADB
policy = policy_any
unique_subject = no
copy_extensions = none
default_md = md_gost12_256
default_crl_days = 3650
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always

[policy_any]
countryName = optional
stateOrProvinceName = optional
localityName = optional
streetAddress = optional
organizationName = optional
organizationalUnitName = optional
title = optional
surname = optional
givenName = optional
commonName = supplied
SNILS = optional
INN = optional
OGRN = optional
INNLE = optional
[req]
distinguished_name = dn
utf8 = yes
string_mask = utf8only
[dn]

[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
1.2.643.100.111 = ASN1:FORMAT:UTF8,UTF8String:СКЗИ \"КриптоПро CSP\" (версия 5.0)

[v3_inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.2.643.100.111 = ASN1:FORMAT:UTF8,UTF8String:СКЗИ \"КриптоПро CSP\" (версия 5.0)
crlDistributionPoints = URI:http://127.0.0.1:8080/root.crl

# Qualified certificate of a person (FSB order 795). Quotes in config values
# must be written \" or the config parser drops them; FORMAT:UTF8 makes
# OpenSSL read the value as UTF-8 (without it Cyrillic is encoded twice).
[v3_person]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = 1.2.643.100.113.1
1.2.643.100.111 = ASN1:FORMAT:UTF8,UTF8String:СКЗИ \"КриптоПро CSP\" (версия 5.0)
1.2.643.100.112 = ASN1:SEQUENCE:issuer_sign_tool
1.2.643.100.114 = ASN1:INTEGER:0
crlDistributionPoints = URI:http://127.0.0.1:8080/ca.crl

# Organisation: the same, with classes КС1 and КС2.
[v3_org]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = 1.2.643.100.113.1,1.2.643.100.113.2
1.2.643.100.111 = ASN1:FORMAT:UTF8,UTF8String:СКЗИ \"КриптоПро CSP\" (версия 5.0)
1.2.643.100.112 = ASN1:SEQUENCE:issuer_sign_tool
1.2.643.100.114 = ASN1:INTEGER:0
crlDistributionPoints = URI:http://127.0.0.1:8080/ca.crl

[issuer_sign_tool]
signTool = FORMAT:UTF8,UTF8String:ПАК \"КриптоПро УЦ\" версии 2.0
cATool = FORMAT:UTF8,UTF8String:СКЗИ \"КриптоПро CSP\" версии 4.0
signToolCert = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/124-3966 от 15.01.2021
cAToolCert = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/128-3868 от 23.07.2020

[v3_plain]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_wrongku]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# ------------------------------------------------------------------ helpers
genkey() { # NAME genpkey-args...: PKCS#8 PEM private key NAME.key
	local name=$1; shift
	run openssl genpkey "$@" -out "$out/$name.key"
}

newca() { # NAME FIRST_SERIAL_HEX: an empty CA database
	mkdir -p "$work/$1"
	: >"$work/$1/index.txt"
	echo "$2" >"$work/$1/serial"
	echo 01 >"$work/$1/crlnumber"
}

# issue CA CACERT|self CAKEY NAME SUBJECT EXTSECTION MD FROM TO
issue() {
	local ca=$1 cacert=$2 cakey=$3 name=$4 subj=$5 ext=$6 md=$7 from=$8 to=$9
	run openssl req -new -config "$work/ca.cnf" -utf8 -key "$out/$name.key" -subj "$subj" -out "$work/$name.csr"
	# -preserveDN keeps the requested order of the subject; "preserve = yes" in
	# the config is not enough with OpenSSL 3.0 (it reorders to the policy order).
	local sel=(-cert "$cacert" -keyfile "$cakey")
	[[ $cacert == self ]] && sel=(-selfsign -keyfile "$cakey")
	CADB=$work/$ca run openssl ca -batch -config "$work/ca.cnf" "${sel[@]}" -in "$work/$name.csr" \
		-preserveDN -extensions "$ext" -md "$md" -startdate "$from" -enddate "$to" -notext -utf8 -out "$out/$name.pem"
}

# ------------------------------------------------------------------ generate
rm -f ./*.pem ./*.key ./*.crl ./*.crl.der

ca_dn="/C=RU/ST=77 г. Москва/L=Москва/O=АО \"Тестовый УЦ kep\"/INN=00$CA_INNLE/INNLE=$CA_INNLE/OGRN=$CA_OGRN"

# 1. GOST root: 2012-256 CryptoPro-A, Streebog-256.
newca root 01
genkey root -algorithm gost2012_256 -pkeyopt paramset:A
issue root self "$out/root.key" root "$ca_dn/CN=Тестовый корневой УЦ kep" v3_root md_gost12_256 $GOOD_FROM $GOOD_TO

# 2. GOST intermediate: 2012-512 tc26-512-A, signed by the root with Streebog-256.
newca inter 1000
genkey inter -algorithm gost2012_512 -pkeyopt paramset:A
issue root "$out/root.pem" "$out/root.key" inter "$ca_dn/CN=Тестовый УЦ kep (выпускающий)" v3_inter md_gost12_256 $GOOD_FROM $GOOD_TO

# 3. Leaves of the intermediate (signed with Streebog-512, the intermediate's key is 512-bit).
I=("$out/inter.pem" "$out/inter.key")

genkey person -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "${I[@]}" person "/C=RU/ST=77 г. Москва/L=Москва/SN=Иванов/GN=Иван Иванович/CN=Иванов Иван Иванович/SNILS=$PERSON_SNILS/INN=$PERSON_INN" \
	v3_person md_gost12_512 $GOOD_FROM $GOOD_TO

genkey org -algorithm gost2012_512 -pkeyopt paramset:A
issue inter "${I[@]}" org "/C=RU/ST=77 г. Москва/L=Москва/street=ул. Тверская, д. 1/O=ООО \"Ромашка\"/title=Генеральный директор/CN=ООО \"Ромашка\"/OGRN=$ORG_OGRN/INNLE=$ORG_INNLE/SNILS=$DIRECTOR_SNILS/SN=Сидорова/GN=Анна Сергеевна" \
	v3_org md_gost12_512 $GOOD_FROM $GOOD_TO

genkey person-tc26a -algorithm gost2012_256 -pkeyopt paramset:TCA
issue inter "${I[@]}" person-tc26a "/C=RU/ST=78 г. Санкт-Петербург/L=Санкт-Петербург/SN=Петров/GN=Пётр Петрович/CN=Петров Пётр Петрович/SNILS=$TC26_SNILS/INN=$TC26_INN" \
	v3_person md_gost12_512 $GOOD_FROM $GOOD_TO

genkey expired -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "${I[@]}" expired "/C=RU/CN=Просроченный сертификат" v3_plain md_gost12_512 250101000000Z 251231235959Z

genkey notyet -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "${I[@]}" notyet "/C=RU/CN=Ещё не действующий сертификат" v3_plain md_gost12_512 300101000000Z 310101000000Z

genkey revoked -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "${I[@]}" revoked "/C=RU/CN=Отозванный сертификат" v3_plain md_gost12_512 $GOOD_FROM $GOOD_TO
CADB=$work/inter run openssl ca -config "$work/ca.cnf" -cert "$out/inter.pem" -keyfile "$out/inter.key" \
	-revoke "$out/revoked.pem" -crl_reason keyCompromise
# openssl ca records "now" as the revocation date and has no option to set it:
# pin it to 2026-01-15 in the index so the CRL is the same whenever this runs.
sed -i -E 's/^R\t([0-9]+Z)\t[0-9]+Z/R\t\1\t260115000000Z/' "$work/inter/index.txt"
grep -q $'\t260115000000Z,keyCompromise\t' "$work/inter/index.txt" ||
	{ echo "generate.sh: could not pin the revocation date" >&2; cat "$work/inter/index.txt" >&2; exit 1; }

genkey wrongku -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "${I[@]}" wrongku "/C=RU/CN=Ключ только для шифрования" v3_wrongku md_gost12_512 $GOOD_FROM $GOOD_TO

# A leaf issued directly by the root (CryptoPro-B key, chain of two).
genkey direct -algorithm gost2012_256 -pkeyopt paramset:B
issue root "$out/root.pem" "$out/root.key" direct "/C=RU/CN=Сидоров Сидор Сидорович (от корневого УЦ)" v3_plain md_gost12_256 $GOOD_FROM $GOOD_TO

# A second GOST root, NOT to be trusted, and its leaf.
newca other 3000
genkey other-root -algorithm gost2012_256 -pkeyopt paramset:A
issue other self "$out/other-root.key" other-root "/C=RU/O=Посторонний УЦ/CN=Посторонний корневой УЦ" v3_root md_gost12_256 $GOOD_FROM $GOOD_TO
genkey unknown-ca -algorithm gost2012_256 -pkeyopt paramset:A
issue other "$out/other-root.pem" "$out/other-root.key" unknown-ca "/C=RU/CN=Сертификат постороннего УЦ" v3_plain md_gost12_256 $GOOD_FROM $GOOD_TO

# RSA and ECDSA roots with one leaf each.
newca rsa 4000
genkey rsa-root -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue rsa self "$out/rsa-root.key" rsa-root "/C=RU/O=kep test/CN=kep test RSA root" v3_root sha256 $GOOD_FROM $GOOD_TO
genkey rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue rsa "$out/rsa-root.pem" "$out/rsa-root.key" rsa "/C=RU/CN=RSA signer" v3_plain sha256 $GOOD_FROM $GOOD_TO
newca ecdsa 5000
genkey ecdsa-root -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve
issue ecdsa self "$out/ecdsa-root.key" ecdsa-root "/C=RU/O=kep test/CN=kep test ECDSA root" v3_root sha256 $GOOD_FROM $GOOD_TO
genkey ecdsa -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve
issue ecdsa "$out/ecdsa-root.pem" "$out/ecdsa-root.key" ecdsa "/C=RU/CN=ECDSA signer" v3_plain sha256 $GOOD_FROM $GOOD_TO

# 4. CRLs with fixed dates: the intermediate's lists revoked.pem, the root's is empty.
crl() { # CA CACERT CAKEY NAME MD
	CADB=$work/$1 run openssl ca -config "$work/ca.cnf" -gencrl -cert "$2" -keyfile "$3" -md "$5" \
		-crl_lastupdate 260101000000Z -crl_nextupdate 360101000000Z -out "$out/$4.crl"
	run openssl crl -in "$out/$4.crl" -outform DER -out "$out/$4.crl.der"
}
crl inter "$out/inter.pem" "$out/inter.key" inter md_gost12_512
crl root "$out/root.pem" "$out/root.key" root md_gost12_256

# 5. Chains: leaf + its CA certificate (not the root).
for c in person org person-tc26a revoked; do cat "$out/$c.pem" "$out/inter.pem" >"$out/$c-chain.pem"; done
cat "$out/unknown-ca.pem" "$out/other-root.pem" >"$out/unknown-ca-chain.pem"

# ---------------------------------------------------------------- self-check
at=$(date -u -d "$AT_ISO" +%s)
fail() { echo "generate.sh: self-check: $*" >&2; exit 1; }

# check ok|fail CERT [openssl verify args...]
check() {
	local want=$1 cert=$2 got; shift 2
	if openssl verify -attime "$at" "$@" "$out/$cert.pem" >"$work/verify.out" 2>&1; then got=ok; else got=fail; fi
	[[ $got == "$want" ]] || { cat "$work/verify.out" >&2; fail "openssl verify $cert: got $got, want $want"; }
}
chain=(-CAfile "$out/root.pem" -untrusted "$out/inter.pem")
cat "$out/root.pem" "$out/root.crl" "$out/inter.crl" >"$work/root+crls.pem"
crlchain=(-CAfile "$work/root+crls.pem" -untrusted "$out/inter.pem" -crl_check_all)

for c in person org person-tc26a; do
	check ok $c "${chain[@]}" -purpose smimesign
	check ok $c "${crlchain[@]}" -purpose sslclient
done
check ok inter -CAfile "$out/root.pem"
check ok direct -CAfile "$out/root.pem" -purpose smimesign
check ok rsa -CAfile "$out/rsa-root.pem" -purpose smimesign
check ok ecdsa -CAfile "$out/ecdsa-root.pem" -purpose smimesign
check fail expired "${chain[@]}"
check ok expired "${chain[@]}" -attime "$(date -u -d 2025-06-01 +%s)" # only the dates are wrong
check fail notyet "${chain[@]}"
check ok notyet "${chain[@]}" -attime "$(date -u -d 2030-06-01 +%s)"
check ok revoked "${chain[@]}"        # valid without revocation data
check fail revoked "${crlchain[@]}"   # revoked with inter.crl
check ok wrongku "${chain[@]}"        # the chain is fine
check fail wrongku "${chain[@]}" -purpose smimesign # but it may not sign
check fail unknown-ca "${chain[@]}"
check fail unknown-ca "${chain[@]}" -untrusted "$out/other-root.pem"
check ok unknown-ca -CAfile "$out/other-root.pem" # it only fails for want of trust
check fail person -CAfile "$out/root.pem"       # the intermediate is needed
check fail person -CAfile "$out/other-root.pem" -untrusted "$out/inter.pem"
check fail rsa -CAfile "$out/root.pem"
grep -q 'error 10 at 0' <(openssl verify -attime "$at" "${chain[@]}" "$out/expired.pem" 2>&1) || fail "expired: not 'certificate has expired'"
grep -q 'error 9 at 0' <(openssl verify -attime "$at" "${chain[@]}" "$out/notyet.pem" 2>&1) || fail "notyet: not 'certificate is not yet valid'"
grep -q 'error 23 at 0' <(openssl verify -attime "$at" "${crlchain[@]}" "$out/revoked.pem" 2>&1) || fail "revoked: not 'certificate revoked'"
grep -q 'error 26 at 0' <(openssl verify -attime "$at" "${chain[@]}" -purpose smimesign "$out/wrongku.pem" 2>&1) || fail "wrongku: not 'unsuitable certificate purpose'"
grep -q 'error 20 at 0' <(openssl verify -attime "$at" "${chain[@]}" "$out/unknown-ca.pem" 2>&1) || fail "unknown-ca: not 'unable to get local issuer certificate'"

# The Russian fields are where README.md says they are.
txt() { openssl x509 -in "$out/$1.pem" -noout -text -nameopt multiline,-esc_msb,utf8; }
has() { # NAME TEXT...
	local n=$1 t; shift
	for t in "$@"; do grep -qF -- "$t" <<<"$(txt "$n")" || fail "$n: x509 -text lacks \"$t\""; done
}
has root "INN                       = 00$CA_INNLE" "1.2.643.100.4 = $CA_INNLE" "OGRN                      = $CA_OGRN" \
	"Тестовый корневой УЦ kep" "CA:TRUE" "Certificate Sign, CRL Sign" "GOST R 34.10-2012 with 256 bit modulus" \
	"GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)" "Parameter set: id-GostR3410-2001-CryptoPro-A-ParamSet"
has inter "pathlen:0" "GOST R 34.10-2012 with 512 bit modulus" "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)" \
	"Authority Key Identifier" "Parameter set: GOST R 34.10-2012 (512 bit) ParamSet A"
has person "surname                   = Иванов" "givenName                 = Иван Иванович" "commonName                = Иванов Иван Иванович" \
	"SNILS                     = $PERSON_SNILS" "INN                       = $PERSON_INN" \
	"Digital Signature, Non Repudiation, Key Encipherment" "TLS Web Client Authentication, E-mail Protection" \
	'СКЗИ "КриптоПро CSP" (версия 5.0)' 'signTool    : ПАК "КриптоПро УЦ" версии 2.0' "cAToolCert  : Сертификат соответствия" \
	"Class of Signing Tool KC1" "1.2.643.100.114" "URI:http://127.0.0.1:8080/ca.crl"
has org "organizationName          = ООО \"Ромашка\"" "title                     = Генеральный директор" \
	"OGRN                      = $ORG_OGRN" "1.2.643.100.4 = $ORG_INNLE" "SNILS                     = $DIRECTOR_SNILS" \
	"streetAddress             = ул. Тверская, д. 1" "Class of Signing Tool KC2" "GOST R 34.10-2012 with 512 bit modulus"
has person-tc26a "Parameter set: GOST R 34.10-2012 (256 bit) ParamSet A" "SNILS                     = $TC26_SNILS"
has direct "Parameter set: id-GostR3410-2001-CryptoPro-B-ParamSet"
has wrongku "Key Usage: critical" "                Key Encipherment"
has rsa "sha256WithRSAEncryption" "Public-Key: (2048 bit)"
has ecdsa "ecdsa-with-SHA256" "NIST CURVE: P-256"
# identificationKind is INTEGER 0 (DER 02 01 00).
openssl x509 -in "$out/person.pem" -outform DER | od -An -tx1 | tr -d ' \n' |
	grep -q '06052a850364720403020100' || fail "person: identificationKind is not INTEGER 0"

# The intermediate's CRL lists the revoked serial, the root's lists nothing.
serial=$(openssl x509 -in "$out/revoked.pem" -noout -serial | cut -d= -f2)
crltxt=$(openssl crl -in "$out/inter.crl" -noout -text)
grep -q "Serial Number: $serial" <<<"$crltxt" || fail "inter.crl does not list $serial"
grep -q "Revocation Date: Jan 15 00:00:00 2026 GMT" <<<"$crltxt" || fail "inter.crl: revocation date"
grep -q "Key Compromise" <<<"$crltxt" || fail "inter.crl: reason"
grep -q "Next Update: Jan  1 00:00:00 2036 GMT" <<<"$crltxt" || fail "inter.crl: nextUpdate"
[[ $(grep -c "Serial Number:" <<<"$crltxt") == 1 ]] || fail "inter.crl lists more than one certificate"
grep -q "No Revoked Certificates" <<<"$(openssl crl -in "$out/root.crl" -noout -text)" || fail "root.crl is not empty"
run openssl crl -in "$out/inter.crl" -noout -CAfile "${I[0]}"
run openssl crl -in "$out/root.crl" -noout -CAfile "$out/root.pem"

# Private keys match their certificates.
for k in "$out"/*.key; do
	n=$(basename "$k" .key)
	[[ $(openssl pkey -in "$k" -pubout) == $(openssl x509 -in "$out/$n.pem" -noout -pubkey) ]] || fail "$n.key does not match $n.pem"
	head -1 "$k" | grep -q '^-----BEGIN PRIVATE KEY-----$' || fail "$n.key is not PKCS#8"
done

# GOST CMS signatures made and verified by OpenSSL (not committed). The
# intermediate goes into the CMS at signing: OpenSSL 3.0 `cms -verify` builds
# the chain from the CMS certificates only and ignores -certfile.
printf 'Договор № 1 от 01.06.2026\n' >"$work/content.txt"
cms() { # LEAF MD want(ok|fail) [verify args...]
	local leaf=$1 md=$2 want=$3 got; shift 3
	run openssl cms -sign -binary -md "$md" -signer "$out/$leaf.pem" -inkey "$out/$leaf.key" \
		-certfile "$out/inter.pem" -in "$work/content.txt" -outform DER -out "$work/$leaf.p7s"
	if openssl cms -verify -binary -inform DER -in "$work/$leaf.p7s" -content "$work/content.txt" \
		-attime "$at" "$@" -out /dev/null >"$work/cms.out" 2>&1; then got=ok; else got=fail; fi
	[[ $got == "$want" ]] || { cat "$work/cms.out" >&2; fail "cms -verify $leaf: got $got, want $want"; }
}
cms person md_gost12_256 ok -CAfile "$out/root.pem"
cms person md_gost12_256 ok -CAfile "$work/root+crls.pem" -crl_check_all
cms org md_gost12_512 ok -CAfile "$out/root.pem"
cms person-tc26a md_gost12_256 ok -CAfile "$out/root.pem"
cms person md_gost12_256 fail -CAfile "$out/other-root.pem"
cms revoked md_gost12_256 fail -CAfile "$work/root+crls.pem" -crl_check_all
cms revoked md_gost12_256 ok -CAfile "$out/root.pem"
cms expired md_gost12_256 fail -CAfile "$out/root.pem"
cms wrongku md_gost12_256 fail -CAfile "$out/root.pem"
cms direct md_gost12_256 ok -CAfile "$out/root.pem"

echo "generate.sh: fixture PKI regenerated and self-checked in $out (validate at $AT_ISO)"
