#!/usr/bin/env bash
# Regenerates the fixture PKI in this directory with OpenSSL and the gost engine.
# Validity windows are fixed (not relative to now); validate at 2026-06-01T00:00:00Z.
# The expected outcome of every certificate is in README.md.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD

engine=${KEP_GOST_ENGINE:-}
if [[ -z $engine ]]; then
	for d in /usr/lib/*-linux-gnu/engines-3 /usr/lib64/engines-3 /usr/lib/engines-3; do
		[[ -f $d/gost.so ]] && { engine=$d/gost.so; break; }
	done
fi
[[ -n $engine ]] || { echo "gost engine not found: install libengine-gost-openssl" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
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
export CADB=$work # overridden per CA; openssl req reads the same file

# One openssl ca configuration; each CA gets its own database.
cat >"$work/ca.cnf" <<'CNF'
oid_section = oids
[oids]
INNLE = 1.2.643.100.4
[ca]
default_ca = ca_default
[ca_default]
dir = .
database = $ENV::CADB/index.txt
serial = $ENV::CADB/serial
crlnumber = $ENV::CADB/crlnumber
new_certs_dir = $ENV::CADB
policy = policy_any
unique_subject = no
preserve = yes
copy_extensions = none
default_crl_days = 3650
default_md = md_gost12_256
[policy_any]
countryName = optional
stateOrProvinceName = optional
localityName = optional
streetAddress = optional
organizationName = optional
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
[v3_inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_person]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
certificatePolicies = 1.2.643.100.113.1,1.2.643.100.113.2
1.2.643.100.111 = ASN1:FORMAT:UTF8,UTF8String:СКЗИ "КриптоПро CSP" (версия 5.0)
1.2.643.100.112 = ASN1:SEQUENCE:issuer_tool
1.2.643.100.114 = ASN1:INTEGER:0
crlDistributionPoints = URI:http://127.0.0.1:8080/inter.crl
[issuer_tool]
tool = FORMAT:UTF8,UTF8String:ПАК "КриптоПро УЦ" версии 2.0
cryptotool = FORMAT:UTF8,UTF8String:СКЗИ "КриптоПро CSP" версии 4.0
cert1 = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/124-3966 от 15.01.2021
cert2 = FORMAT:UTF8,UTF8String:Сертификат соответствия № СФ/128-3868 от 23.07.2020
[v3_wrongku]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_plain]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

GOOD_FROM=250101000000Z
GOOD_TO=350101000000Z

genkey() { # name genpkey-args...
	local name=$1; shift
	openssl genpkey "$@" -out "$out/$name.key" 2>/dev/null
}

# newca NAME: an empty CA database
newca() {
	mkdir -p "$work/$1"
	: >"$work/$1/index.txt"
	echo 1000 >"$work/$1/serial"
	echo 01 >"$work/$1/crlnumber"
}

# issue CA_NAME CA_CERT CA_KEY NAME SUBJECT EXT MD FROM TO
issue() {
	local ca=$1 cacert=$2 cakey=$3 name=$4 subj=$5 ext=$6 md=$7 from=$8 to=$9
	openssl req -new -config "$work/ca.cnf" -key "$out/$name.key" -subj "$subj" -out "$work/$name.csr"
	local sel=(-cert "$cacert" -keyfile "$cakey")
	[[ $cacert == self ]] && sel=(-selfsign -keyfile "$cakey")
	CADB=$work/$ca openssl ca -batch -config "$work/ca.cnf" "${sel[@]}" -in "$work/$name.csr" \
		-extensions "$ext" -md "$md" -startdate "$from" -enddate "$to" -notext -utf8 -out "$out/$name.pem" 2>/dev/null
}

rm -f ./*.pem ./*.key ./*.crl ./*.der

# GOST root (CryptoPro-A) and intermediate (tc26-512-A).
newca root
genkey root -algorithm gost2012_256 -pkeyopt paramset:A
issue root self "$out/root.key" root "/C=RU/O=Тестовый УЦ kep/CN=Тестовый корневой УЦ kep/INN=007700000000/OGRN=1027700000000" \
	v3_root md_gost12_256 $GOOD_FROM $GOOD_TO
newca inter
genkey inter -algorithm gost2012_512 -pkeyopt paramset:A
issue root "$out/root.pem" "$out/root.key" inter "/C=RU/O=Тестовый УЦ kep/CN=Тестовый промежуточный УЦ kep" \
	v3_inter md_gost12_256 $GOOD_FROM $GOOD_TO

person_subj="/C=RU/ST=77 г. Москва/L=Москва/SN=Иванов/GN=Иван Иванович/CN=Иванов Иван Иванович/SNILS=11223344595/INN=500100732259"
genkey person -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "$out/inter.pem" "$out/inter.key" person "$person_subj" v3_person md_gost12_512 $GOOD_FROM $GOOD_TO

genkey org -algorithm gost2012_512 -pkeyopt paramset:A
issue inter "$out/inter.pem" "$out/inter.key" org "/C=RU/ST=77 г. Москва/L=Москва/street=ул. Тверская, д. 1/O=ООО \"Ромашка\"/title=Генеральный директор/CN=ООО \"Ромашка\"/OGRN=1027700132195/INNLE=7707083893/SNILS=11223344595/SN=Иванов/GN=Иван Иванович" \
	v3_person md_gost12_512 $GOOD_FROM $GOOD_TO

genkey person-tc26a -algorithm gost2012_256 -pkeyopt paramset:TCA
issue inter "$out/inter.pem" "$out/inter.key" person-tc26a "/C=RU/CN=Петров Пётр Петрович/SN=Петров/GN=Пётр Петрович/SNILS=11223344595" \
	v3_person md_gost12_512 $GOOD_FROM $GOOD_TO

genkey direct -algorithm gost2012_256 -pkeyopt paramset:B
issue root "$out/root.pem" "$out/root.key" direct "/C=RU/CN=Сидоров Сидор (от корневого УЦ)" v3_plain md_gost12_256 $GOOD_FROM $GOOD_TO

genkey expired -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "$out/inter.pem" "$out/inter.key" expired "/C=RU/CN=Просроченный сертификат" v3_plain md_gost12_512 250101000000Z 251231235959Z

genkey notyet -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "$out/inter.pem" "$out/inter.key" notyet "/C=RU/CN=Ещё не действующий сертификат" v3_plain md_gost12_512 300101000000Z 310101000000Z

genkey revoked -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "$out/inter.pem" "$out/inter.key" revoked "/C=RU/CN=Отозванный сертификат" v3_plain md_gost12_512 $GOOD_FROM $GOOD_TO
CADB=$work/inter openssl ca -config "$work/ca.cnf" -revoke "$out/revoked.pem" -keyfile "$out/inter.key" -cert "$out/inter.pem" \
	-crl_reason keyCompromise 2>/dev/null
# The revocation date is when the command runs; the CRL is issued with fixed
# dates below, so the fixture only promises "revoked before 2026-06-01" when it
# was generated before then. Pin it: rewrite the index date to 2026-01-15.
sed -i -E 's/^R\t([0-9]+Z)\t[0-9]+Z/R\t\1\t260115000000Z/' "$work/inter/index.txt"

genkey wrongku -algorithm gost2012_256 -pkeyopt paramset:A
issue inter "$out/inter.pem" "$out/inter.key" wrongku "/C=RU/CN=Ключ только для шифрования" v3_wrongku md_gost12_512 $GOOD_FROM $GOOD_TO

# An unrelated GOST root (not to be trusted) and its leaf.
newca other
genkey other-root -algorithm gost2012_256 -pkeyopt paramset:A
issue other self "$out/other-root.key" other-root "/C=RU/CN=Посторонний УЦ" v3_root md_gost12_256 $GOOD_FROM $GOOD_TO
genkey unknown-ca -algorithm gost2012_256 -pkeyopt paramset:A
issue other "$out/other-root.pem" "$out/other-root.key" unknown-ca "/C=RU/CN=Сертификат постороннего УЦ" v3_plain md_gost12_256 $GOOD_FROM $GOOD_TO

# RSA and ECDSA chains.
newca rsa
genkey rsa-root -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue rsa self "$out/rsa-root.key" rsa-root "/C=RU/CN=kep test RSA root" v3_root sha256 $GOOD_FROM $GOOD_TO
genkey rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
issue rsa "$out/rsa-root.pem" "$out/rsa-root.key" rsa "/C=RU/CN=RSA signer" v3_plain sha256 $GOOD_FROM $GOOD_TO
newca ecdsa
genkey ecdsa-root -algorithm EC -pkeyopt ec_paramgen_curve:P-256
issue ecdsa self "$out/ecdsa-root.key" ecdsa-root "/C=RU/CN=kep test ECDSA root" v3_root sha256 $GOOD_FROM $GOOD_TO
genkey ecdsa -algorithm EC -pkeyopt ec_paramgen_curve:P-256
issue ecdsa "$out/ecdsa-root.pem" "$out/ecdsa-root.key" ecdsa "/C=RU/CN=ECDSA signer" v3_plain sha256 $GOOD_FROM $GOOD_TO

# CRLs with fixed dates: the intermediate's lists "revoked"; the root's is empty.
crl() { # ca cert key name md
	CADB=$work/$1 openssl ca -config "$work/ca.cnf" -gencrl -cert "$2" -keyfile "$3" -md "$5" \
		-crl_lastupdate 260101000000Z -crl_nextupdate 360101000000Z -out "$out/$4.crl" 2>/dev/null
	openssl crl -in "$out/$4.crl" -outform DER -out "$out/$4.crl.der"
}
crl inter "$out/inter.pem" "$out/inter.key" inter md_gost12_512
crl root "$out/root.pem" "$out/root.key" root md_gost12_256

cat "$out/person.pem" "$out/inter.pem" >"$out/person-chain.pem"
cat "$out/org.pem" "$out/inter.pem" >"$out/org-chain.pem"

# Self-check: the fixture says what README.md says.
at=$(date -d 2026-06-01T00:00:00Z +%s)
check() { # expect(ok|fail) cert [extra args]
	local want=$1 cert=$2; shift 2
	if openssl verify -attime "$at" "$@" "$out/$cert.pem" >/dev/null 2>&1; then got=ok; else got=fail; fi
	[[ $got == "$want" ]] || { echo "self-check: $cert: openssl verify says $got, want $want" >&2; exit 1; }
}
chain=(-CAfile "$out/root.pem" -untrusted "$out/inter.pem")
for c in person org person-tc26a wrongku; do check ok $c "${chain[@]}"; done
check ok direct -CAfile "$out/root.pem"
check ok rsa -CAfile "$out/rsa-root.pem"
check ok ecdsa -CAfile "$out/ecdsa-root.pem"
check fail expired "${chain[@]}"
check fail notyet "${chain[@]}"
check fail unknown-ca "${chain[@]}"
check fail person -CAfile "$out/root.pem"
cat "$out/root.pem" "$out/inter.crl" "$out/root.crl" >"$work/crlstore.pem"
check fail revoked -CAfile "$work/crlstore.pem" -untrusted "$out/inter.pem" -crl_check_all
check ok person -CAfile "$work/crlstore.pem" -untrusted "$out/inter.pem" -crl_check_all
echo "fixture PKI regenerated and self-checked in $out"
