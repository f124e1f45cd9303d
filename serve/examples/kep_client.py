"""kep serve from Python with the standard library only (urllib).

    python3 kep_client.py verify FILE.sig FILE     # prints the indication
    python3 kep_client.py challenge ORIGIN         # prints the challenge JSON
    python3 kep_client.py login ORIGIN RESPONSE    # prints who logged in, or why not

KEP_URL (default http://127.0.0.1:8780) and KEP_API_KEY come from the environment.
"""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

URL = os.environ.get("KEP_URL", "http://127.0.0.1:8780")
KEY = os.environ["KEP_API_KEY"]


def call(path, body=None, content_type="application/json"):
    req = urllib.request.Request(URL + path, data=body, method="POST" if body is not None else "GET")
    req.add_header("Authorization", "Bearer " + KEY)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:  # 4xx/5xx: the body says why
        return err.code, json.load(err)


def verify(sig_path, content_path, options=None):
    """Stream a multipart body: signature, options, then the content in 1 MiB chunks."""
    boundary = uuid.uuid4().hex

    def part(name, ctype):
        return (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n").encode()

    def body():
        with open(sig_path, "rb") as f:
            yield part("signature", "application/octet-stream") + f.read() + b"\r\n"
        if options:
            yield part("options", "application/json") + json.dumps(options).encode() + b"\r\n"
        yield part("content", "application/octet-stream")
        with open(content_path, "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    return call("/v1/signatures/verify", body(), "multipart/form-data; boundary=" + boundary)


def challenge(origin):
    return call("/v1/login/challenges", json.dumps({"origin": origin}).encode())


def login(origin, response):
    return call("/v1/login/verify", json.dumps({"origin": origin, "response": response}).encode())


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "verify":
        status, report = verify(sys.argv[2], sys.argv[3], {"profile": "cades-bes"})
        if status != 200:
            sys.exit(f"kep serve: {status} {report['error']['code']}: {report['error']['message']}")
        signer = report["signers"][0].get("signer", {})
        print(report["indication"], signer.get("surname", ""), signer.get("snils", ""))
    elif cmd == "challenge":
        status, ch = challenge(sys.argv[2])
        print(json.dumps(ch, ensure_ascii=False))
    elif cmd == "login":
        with open(sys.argv[3]) as f:
            status, answer = login(sys.argv[2], json.load(f))
        if status == 200:
            print("OK", answer["surname"], answer["givenName"], "СНИЛС", answer.get("snils", ""))
        else:
            print("REFUSED", answer.get("reason") or answer["error"]["code"])
            sys.exit(1)
