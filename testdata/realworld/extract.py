#!/usr/bin/env python3
"""Derives the labelled negative cases in derived/ from the real files beside
this script (no git clone, no network):

  python3 extract.py          # writes derived/
  python3 extract.py check    # only compares derived/ with what it would write

Each derived file changes exactly one thing in a copy of a real file, as
cases.txt says. The real files themselves are not made here: SOURCES.md says
where each came from (the code index's read_file, repository, path, commit).

One negative is not in derived/: cryptopro-test-center-2-crl-signature-flipped
comes from a CRL that is kept out of the repository (a sample, see SOURCES.md).
The tests make it at test time from ../shared/samples/realworld (or
$KEP_REALWORLD_SAMPLES) with the same rule as flip() below (cases.txt: derive);
`check` also makes it when that sample is present and reports its size.
"""
import os, sys

here = os.path.dirname(os.path.abspath(__file__))
samples = os.environ.get("KEP_REALWORLD_SAMPLES") or os.path.join(here, "..", "..", "..", "shared", "samples", "realworld")


def rd(p, base=here):
    with open(os.path.join(base, p), "rb") as f:
        return f.read()


def der_of_pem(p):
    import base64
    body = "".join(l for l in rd(p).decode().splitlines() if l and not l.startswith("-----"))
    return base64.b64decode(body)


def flip(data):
    """The last byte XOR 01 (every file flipped here ends with its signature)."""
    return data[:-1] + bytes([data[-1] ^ 0x01])


def replace_once(data, old, new):
    assert data.count(old) == 1, (old, data.count(old))
    return data.replace(old, new)


def derived():
    rt = rd("bc-java/rutoken-detached-gost2012-256.p7s")
    # The signingTime attribute (OID 1.2.840.113549.1.9.5, SET, UTCTime):
    # 240207125200Z -> 240207125300Z inside the signed attributes.
    st = bytes.fromhex("06092a864886f70d010905310f170d")
    a111 = der_of_pem("gost-engine/tc26-signed-a111.pem")
    a121 = der_of_pem("gost-engine/tc26-signed-a121.pem")
    raw = rd("bc-java/cryptopro-testcenter-attached-gost2001.p7s")
    return {
        "rutoken-signature-flipped.p7s": flip(rt),
        "rutoken-signingtime-changed.p7s": replace_once(rt, st + b"240207125200Z", st + b"240207125300Z"),
        "rutoken-wrong-content.content": bytes([1, 2, 4]),
        # "SignedData." -> "SignedData," at the end of the encapsulated text.
        "tc26-signed-a111-content-changed.p7s": replace_once(a111, b"SignedData.", b"SignedData,"),
        "tc26-signed-a121-content-changed.p7s": replace_once(a121, b"SignedData.", b"SignedData,"),
        "cryptopro-testcenter-content-changed.p7s": replace_once(raw, b"Some Data HERE!!", b"Some Data HERE!?"),
        "rfc4491-gost2001-signature-flipped.cer": flip(rd("bc-java/rfc4491-gost2001.cer")),
    }


def main(check):
    bad = 0
    for name, data in derived().items():
        p = os.path.join(here, "derived", name)
        if check:
            same = os.path.exists(p) and rd(p) == data
            bad += not same
            print(("ok   " if same else "DIFF ") + "derived/" + name)
        else:
            with open(p, "wb") as f:
                f.write(data)
    crl = "trusted-crypto/cryptopro-test-center-2-2015-12-21.crl"
    if check and os.path.exists(os.path.join(samples, crl)):
        print("ok   (sample) %d-byte flipped copy of %s, made by the tests" % (len(flip(rd(crl, samples))), crl))
    elif check:
        print("skip (sample) %s not in %s: the tests skip its two cases" % (crl, samples))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] == ["check"]))
