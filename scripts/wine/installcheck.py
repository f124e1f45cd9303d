"""Checks what kep.exe install / uninstall left in a Wine prefix (make test-platforms).

    installcheck.py installed REG PREFIX KEPEXE INSTALL.json
    installcheck.py again INSTALL.json DOCTOR.json
    installcheck.py removed REG PREFIX INSTALL.json DOCTOR.json

REG is `wine reg export HKCU\\Software` output (UTF-16), PREFIX the WINEPREFIX,
KEPEXE kep.exe's Windows path, INSTALL.json the first `kep install --json`,
DOCTOR.json `kep doctor --json`. The extension's names come from
extension/extension.go. Prints what it found; exits 1 on the first miss.
"""
import json
import os
import re
import sys

BROWSERS = [r"Google\Chrome", "Chromium", r"Microsoft\Edge", r"Yandex\YandexBrowser", "Mozilla"]
RUN = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"


def fail(msg):
    print(msg)
    sys.exit(1)


def consts():
    src = open("extension/extension.go", encoding="utf-8").read()
    get = lambda name: re.search(r"\b" + name + r'\s*=\s*"([^"]+)"', src).group(1)
    return get("HostName"), get("ChromeID"), get("FirefoxID")


def registry(path):
    """{key: {value name ('' for the default): string}} of a .reg export."""
    keys, cur = {}, None
    for line in open(path, encoding="utf-16").read().splitlines():
        if line.startswith("[") and line.endswith("]"):
            cur = keys.setdefault(line[1:-1], {})
        elif cur is not None and "=" in line and line[:1] in '"@':
            name, _, val = line.partition("=")
            if val.startswith('"'):
                cur["" if name == "@" else json.loads(name)] = json.loads(val)
    return keys


def unix(prefix, winpath):
    drive, rest = winpath[0].lower(), winpath[2:].replace("\\", "/")
    return rest if drive == "z" else os.path.join(prefix, "drive_" + drive) + rest


def launcher(install):
    for c in json.load(open(install, encoding="utf-8")):
        if c["step"] == "native-host launcher" and c["path"].endswith(".bat"):
            return c["path"]
    fail("install's output names no launcher")


def codes(doctor):
    text = open(doctor, encoding="utf-8").read()
    return re.findall(r'"code"\s*:\s*"([A-Z_]+)"', text)


def installed(reg, prefix, exe, install):
    host, chrome_id, firefox_id = consts()
    keys = registry(reg)
    want = '"%s" agent' % exe
    if keys.get(RUN, {}).get("kep") != want:
        fail("HKCU Run value kep is %r, want %r" % (keys.get(RUN, {}).get("kep"), want))
    bat = launcher(install)
    text = open(unix(prefix, bat), encoding="utf-8").read()
    if '"%s" native-host' % exe not in text:
        fail("the launcher %s does not run %s native-host: %r" % (bat, exe, text))
    for b in BROWSERS:
        k = "HKEY_CURRENT_USER\\Software\\%s\\NativeMessagingHosts\\%s" % (b, host)
        manifest = keys.get(k, {}).get("")
        if not manifest:
            fail("no default value at " + k)
        m = json.load(open(unix(prefix, manifest), encoding="utf-8"))
        allowed = m.get("allowed_extensions") if b == "Mozilla" else m.get("allowed_origins")
        want_allowed = [firefox_id] if b == "Mozilla" else ["chrome-extension://%s/" % chrome_id]
        if m.get("name") != host or m.get("type") != "stdio" or m.get("path") != bat or allowed != want_allowed:
            fail("manifest %s (from %s): %r" % (manifest, k, m))
    print("Run value %s, launcher %s, %d browsers' keys and manifests" % (want, bat, len(BROWSERS)))


def again(install, doctor):
    ch = json.load(open(install, encoding="utf-8"))
    changed = [c for c in ch if c["action"] != "unchanged"]
    if not ch or changed:
        fail("the second install changed %r" % changed)
    c = codes(doctor)
    if "AUTOSTART_INSTALLED" not in c or c.count("NATIVE_HOST_REGISTERED") != len(BROWSERS):
        fail("kep doctor: %r" % c)
    print("%d steps unchanged; kep doctor: AUTOSTART_INSTALLED, NATIVE_HOST_REGISTERED ×%d" % (len(ch), len(BROWSERS)))


def removed(reg, prefix, install, doctor):
    host, _, _ = consts()
    keys = registry(reg)
    if "kep" in keys.get(RUN, {}):
        fail("the Run value is left")
    left = [k for k in keys if k.endswith("\\NativeMessagingHosts\\" + host)]
    if left:
        fail("registrations left: %r" % left)
    # kep's folder itself may stay when it holds the agent's own data (an
    # agent ran before in this prefix); what install wrote must be gone.
    bat = unix(prefix, launcher(install))
    for left in (bat, os.path.join(os.path.dirname(bat), "native-messaging")):
        if os.path.exists(left):
            fail("%s is left" % left)
    c = codes(doctor)
    if "AUTOSTART_NOT_INSTALLED" not in c or "NATIVE_HOST_REGISTERED" in c:
        fail("kep doctor: %r" % c)
    rest = os.listdir(os.path.dirname(bat)) if os.path.isdir(os.path.dirname(bat)) else None
    print("Run value, %d registrations, manifests and launcher gone (kep's folder %s); kep doctor: AUTOSTART_NOT_INSTALLED"
          % (len(BROWSERS), "removed" if rest is None else "kept for the agent's own " + ", ".join(sorted(rest))))


if __name__ == "__main__":
    {"installed": installed, "again": again, "removed": removed}[sys.argv[1]](*sys.argv[2:])
