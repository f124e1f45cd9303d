#!/usr/bin/env python3
"""Rebuilds testdata/realworld from the upstream repositories, at the commits
SOURCES.md names, and derives the labelled negative cases in derived/.

  python3 extract.py BC_JAVA_GIT GOST_ENGINE_GIT OAUTH2_ESIA_GIT TRUSTED_CRYPTO_GIT PYCADES_GIT

Each argument is a clone (or bare git directory) of, in order,
github.com/bcgit/bc-java, github.com/gost-engine/engine,
github.com/ekapusta/oauth2-esia, github.com/Trusted-eSign/trusted-crypto and
github.com/CryptoPro/pycades. The pycades leaf certificate is taken out of
its PFX's certificate bag (3DES-encrypted, empty password) with openssl
pkcs12; its bytes are the CryptoPro-made certificate as the bag holds it. Nothing here is produced by kep or by
OpenSSL: the files are copied byte for byte (base64 literals in Java test
sources decoded as they are), and derived/ changes exactly one thing in a copy
of a real file, as cases.txt says.
"""
import base64, os, re, subprocess, sys

BC_COMMIT = "1a269caece1bfb2290ccd47098038c6edab3619b"
GE_COMMIT = "a34a05e29a1b402335a8faaafba75dbdd192aadd"
ESIA_HEAD = "cf5f73161dea7e65cbb4184f26f17e121d1e86f6"
ESIA_2020 = "2cba3eaf8f2cd9213bc9fe35a548c50491cf2cfb"
TC_CERTSTORE = "b11114dec8236695a3770b8677aa56f6d227d9f1"  # trusted-crypto, before its test/CertStore was removed
TC_TESTRU = "6ea2e1e49700abe1a33c26766cb3fbc727d818b8"
PYCADES = "3f9ae27dc055c717a94cfb385fde99136c9b03f2"

here = os.path.dirname(os.path.abspath(__file__))


def show(git, commit, path):
    gitdir = git if os.path.isfile(os.path.join(git, "HEAD")) else os.path.join(git, ".git")
    return subprocess.run(["git", "--git-dir", gitdir, "show", commit + ":" + path],
                          check=True, capture_output=True).stdout


def java_b64(src, name):
    """The bytes of the Base64 literal assigned to name in a Java source."""
    text = src.decode("utf-8")
    m = re.search(r"\b" + re.escape(name) + r"\s*=", text)
    end = text.index(";", m.end())
    return base64.b64decode("".join(re.findall(r'"([^"]*)"', text[m.end():end])))


def write(rel, data):
    p = os.path.join(here, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def main(bc, ge, esia, tc, pc):
    cert_test = show(bc, BC_COMMIT, "pkix/src/test/java/org/bouncycastle/cert/test/CertTest.java")
    for var, out in [
        ("gostRFC4491_2001", "rfc4491-gost2001.cer"), ("gostRFC4491_94", "rfc4491-gost94.cer"),
        ("gost34102001base", "cryptopro-example-gost2001-2005-02.cer"), ("gost341094base", "cryptopro-example-gost94-2005-02.cer"),
        ("gostCA1", "cryptopro-cp-csp-test-ca-gost94.cer"), ("gost34102001A", "digt-default-gost2001.cer"),
        ("gost341094A", "digt-default-gost94.cer"), ("gost341094B", "digt-param1-gost94.cer"),
        ("gostCA2", "digt-sba-ca-gost2001.cer"), ("gost_2012_cert", "bc-contributed-gost2012-256.cer"),
    ]:
        write("bc-java/" + out, java_b64(cert_test, var))
    nsd = show(bc, BC_COMMIT, "pkix/src/test/java/org/bouncycastle/cms/test/NewSignedDataTest.java")
    write("bc-java/cryptopro-testcenter-attached-gost2001.p7s", java_b64(nsd, "rawGost"))
    rt = show(bc, BC_COMMIT, "pkix/src/test/java/org/bouncycastle/cms/test/GOSTR3410_2012_256CmsSignVerifyDetached.java")
    write("bc-java/rutoken-detached-gost2012-256.p7s", java_b64(rt, "SIGNATURE"))
    write("bc-java/rutoken-detached-gost2012-256.content", bytes([1, 2, 3]))  # SIGNED_DATA in the same test
    write("bc-java/rutoken-ca.cer", java_b64(rt, "CA_CERTIFICATE"))
    write("bc-java/LICENSE", re.sub(rb"<[^>]*>", b"", show(bc, BC_COMMIT, "LICENSE.html")).strip() + b"\n")

    for name in ["signed_a111", "signed_a121", "hashed_a311", "hashed_a321", "encrypted_keytrans_a231",
                 "root256_cert", "sender256_cert", "sender512_cert", "recipient256_cert", "recipient512_cert"]:
        write("gost-engine/tc26-" + name.replace("_", "-") + ".pem", show(ge, GE_COMMIT, "tcl_tests/tc26_cms/" + name + ".pem"))
    write("gost-engine/LICENSE", show(ge, GE_COMMIT, "LICENSE"))

    write("oauth2-esia/esia-gost-prod-2025.cer", show(esia, ESIA_HEAD, "resources/esia.gost.prod.cer"))
    write("oauth2-esia/esia-gost-test-2025.cer", show(esia, ESIA_HEAD, "resources/esia.gost.test.cer"))
    write("oauth2-esia/esia-gost-prod-2020.cer", show(esia, ESIA_2020, "resources/esia.gost.prod.cer"))
    write("oauth2-esia/LICENSE", show(esia, ESIA_HEAD, "LICENSE.md"))

    write("trusted-crypto/cryptopro-test-center-2.cer", show(tc, TC_CERTSTORE, "test/CertStore/TRUST/crpro.cer"))
    write("trusted-crypto/cryptopro-test-center-2-2015-12-21.crl", show(tc, TC_CERTSTORE, "test/CertStore/CRL/CRYPTO-PRO Test Center 2(3).crl"))
    write("trusted-crypto/tensor-ca-digt-director-2015.cer", show(tc, TC_TESTRU, "test/resources/test-ru.crt"))
    write("trusted-crypto/LICENSE", show(tc, TC_TESTRU, "LICENSE"))

    write("pycades/pycades-root.cer", show(pc, PYCADES, "tests/fixtures/pycades-root.cer"))
    write("pycades/pycades-root.crl", show(pc, PYCADES, "tests/fixtures/pycades-root.crl"))
    pfx = show(pc, PYCADES, "tests/fixtures/pycades-test.pfx")
    pem = subprocess.run(["openssl", "pkcs12", "-nokeys", "-clcerts", "-passin", "pass:"], input=pfx,
                         check=True, capture_output=True).stdout
    body = pem.split(b"-----BEGIN CERTIFICATE-----")[1].split(b"-----END CERTIFICATE-----")[0]
    write("pycades/pycades-test.cer", base64.b64decode(body))
    write("pycades/LICENSE", show(pc, PYCADES, "LICENSE"))
    derive()


def der_of_pem(p):
    text = open(os.path.join(here, p), "rb").read().decode()
    body = "".join(l for l in text.splitlines() if l and not l.startswith("-----"))
    return bytearray(base64.b64decode(body))


def flip(data, offset):
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


def replace_once(data, old, new):
    assert data.count(old) == 1, (old, data.count(old))
    return bytes(data).replace(old, new)


def derive():
    """Derived negatives: one change each, in derived/, named after their source."""
    rd = lambda p: open(os.path.join(here, p), "rb").read()
    rt = rd("bc-java/rutoken-detached-gost2012-256.p7s")
    # The last byte of the SignerInfo's signature value (the file ends with it).
    write("derived/rutoken-signature-flipped.p7s", flip(rt, len(rt) - 1))
    # The signingTime attribute (OID 1.2.840.113549.1.9.5, SET, UTCTime):
    # 240207125200Z -> 240207125300Z inside the signed attributes.
    st = bytes.fromhex("06092a864886f70d010905310f170d")
    write("derived/rutoken-signingtime-changed.p7s", replace_once(rt, st + b"240207125200Z", st + b"240207125300Z"))
    write("derived/rutoken-wrong-content.content", bytes([1, 2, 4]))
    a111 = der_of_pem("gost-engine/tc26-signed-a111.pem")
    a121 = der_of_pem("gost-engine/tc26-signed-a121.pem")
    # "SignedData." -> "SignedData," at the end of the encapsulated text.
    write("derived/tc26-signed-a111-content-changed.p7s", replace_once(a111, b"SignedData.", b"SignedData,"))
    write("derived/tc26-signed-a121-content-changed.p7s", replace_once(a121, b"SignedData.", b"SignedData,"))
    raw = rd("bc-java/cryptopro-testcenter-attached-gost2001.p7s")
    write("derived/cryptopro-testcenter-content-changed.p7s", replace_once(raw, b"Some Data HERE!!", b"Some Data HERE!?"))
    c = rd("bc-java/rfc4491-gost2001.cer")
    write("derived/rfc4491-gost2001-signature-flipped.cer", flip(c, len(c) - 1))
    crl = rd("trusted-crypto/cryptopro-test-center-2-2015-12-21.crl")
    write("derived/cryptopro-test-center-2-crl-signature-flipped.crl", flip(crl, len(crl) - 1))


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "derive":
        derive()
    else:
        main(*sys.argv[1:6])
