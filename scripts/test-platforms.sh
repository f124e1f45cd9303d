#!/usr/bin/env bash
# make test-platforms: the release packages built twice and compared byte
# for byte, the .deb installed and removed (dpkg --root: a private dpkg
# database, the machine's own is not touched), the .msi installed under Wine
# with its registry keys read back, and the installed kep.exe run under Wine
# with tokens on kep-pkcs11.dll: version, tokens, sign, verify (and the
# signature checked by openssl cms -verify), and kep.exe agent (on
# kep-pkcs11.dll) used by the demo portal in headless Chromium on Linux
# through 127.0.0.1 (access, certificates, login, signing; the signature
# checked by the Linux kep verify and openssl), kep.exe native-host's
# framing, the agent stopped with Ctrl-C; then, with the MSI removed,
# kep.exe install (twice) and uninstall with kep doctor's view of each.
# Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=$(mktemp -d); AGENT_PID="" BUILD_PID=""
cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null; [ -n "$BUILD_PID" ] && kill "$BUILD_PID" 2>/dev/null
	WINEPREFIX=$W/wine wineserver -k 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT
pass=0 fail=0
ok() { echo "--- PASS: $1 ($2)"; pass=$((pass + 1)); }
bad() { echo "--- FAIL: $1: $2"; fail=$((fail + 1)); }
now() { date +%s.%N; }
since() { printf '%.1fs' "$(echo "$(now) - $1" | bc)"; }
export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) VERSION=${VERSION:-0.1.0+test}

# 1. Two release builds, the same bytes (DIST=dir: test those packages
# instead, built with this VERSION, and skip the comparison).
if [ -n "${DIST:-}" ]; then D=$DIST; echo "testing the packages in $D (no rebuild, no comparison)"; else
t=$(now); OUT=$W/dist1 bash scripts/release.sh > "$W/rel1.log" 2>&1 || { cat "$W/rel1.log"; bad release "build failed"; echo "$pass passed, $((fail)) failed"; exit 1; }
ok "release build" "$(since "$t")"; cat "$W/rel1.log"
t=$(now); OUT=$W/dist2 bash scripts/release.sh > "$W/rel2.log" 2>&1 || cat "$W/rel2.log"
msitables() { # every table's rows (the summary is compared above) and the cabinet's hash
	local t; for t in $(msiinfo tables "$1" | grep -vx _SummaryInformation | sort); do echo "== $t"; msiinfo export "$1" "$t"; done
	msiinfo extract "$1" kep.cab | sha256sum
}
# Every file the same bytes, but the MSI, whose summary information holds
# wixl's wall-clock time (Created, Last saved): there only those may differ.
if diff -u <(grep -v '\.msi$' "$W/dist1/SHA256SUMS") <(grep -v '\.msi$' "$W/dist2/SHA256SUMS"); then ok "reproducible release: .deb, .rpm, tarballs byte for byte (second build)" "$(since "$t")"
else bad "reproducible release" "the files above differ between two builds"; fi
M1=$(ls "$W"/dist1/*.msi) M2=$(ls "$W"/dist2/*.msi)
if diff <(msiinfo suminfo "$M1" | grep -v '^Created:\|^Last saved:') <(msiinfo suminfo "$M2" | grep -v '^Created:\|^Last saved:') \
	&& cmp -s <(msitables "$M1") <(msitables "$M2"); then
	ok "reproducible MSI: the same but for the summary's Created/Last saved times ($(cmp -l "$M1" "$M2" | wc -l) bytes differ)" "-"
else bad "reproducible MSI" "more than the build time differs"; fi
D=$W/dist1
fi
DEB=$(ls "$D"/kep_*_amd64.deb) MSI=$(ls "$D"/kep-*-x64.msi) RPM=$(ls "$D"/kep-*.rpm)

# 2. The .deb and the .rpm.
t=$(now); R=$W/debroot; mkdir -p "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/info"; touch "$R/var/lib/dpkg/status"
if dpkg --root="$R" --force-depends --force-script-chrootless -i "$DEB" >"$W/dpkg.log" 2>&1 && [ -x "$R/usr/bin/kep" ] \
	&& "$R/usr/bin/kep" version | grep -q "^kep $VERSION " && [ -f "$R/usr/lib/kep/kep-pkcs11.so" ]; then
	ok "deb installed (dpkg -i --root), kep version: $("$R/usr/bin/kep" version)" "$(since "$t")"
else cat "$W/dpkg.log"; bad "deb install" "see above"; fi
U=$R/usr/lib/systemd/user/kep-agent.service
if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/bin/kep|$R/usr/bin/kep|" "$U" > "$W/kep-agent.service"  # the unit as installed, pointing at the binary of this root
	if systemd-analyze verify --man=no "$W/kep-agent.service"; then ok "systemd-analyze verify kep-agent.service" "-"; else bad "systemd unit" "systemd-analyze verify failed"; fi
else echo "systemd-analyze not installed: the unit is not verified"; fi
t=$(now)
if dpkg --root="$R" --force-script-chrootless -r kep >>"$W/dpkg.log" 2>&1 && [ -z "$(find "$R" -path "$R/var" -prune -o -type f -print)" ]; then
	ok "deb removed (dpkg -r), no file left outside var/" "$(since "$t")"
else cat "$W/dpkg.log"; find "$R" -path "$R/var" -prune -o -type f -print; bad "deb remove" "files left"; fi
RPMFILES=$(rpm -qlp "$RPM" 2>/dev/null)
if grep -qx /usr/bin/kep <<<"$RPMFILES" && grep -qx /usr/lib/systemd/user/kep-agent.service <<<"$RPMFILES"; then
	ok "rpm lists /usr/bin/kep and the unit" "-"; else bad rpm "file list"; fi

# 3. Windows under Wine: the MSI, then the installed kep.exe with tokens.
export WINEPREFIX=$W/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# The portal's browser test (agent/portal), built while Wine starts; run against kep.exe agent below.
nice ${GO:-go} test -c -o "$W/portal.test" ./agent/portal >"$W/portal-build.log" 2>&1 & BUILD_PID=$!
t=$(now); wineboot -i >/dev/null 2>&1; ok "wine prefix" "$(since "$t")"
# Wine 8 has no bcryptprimitives.dll, which Go 1.24+ needs for ProcessPrng: a shim (test only).
x86_64-w64-mingw32-gcc -O2 -shared -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" scripts/wine/bcryptprimitives.c -lbcrypt
t=$(now)
if wine msiexec /i "$(winepath -w "$MSI")" /qn >"$W/msi.log" 2>&1; then ok "wine msiexec /i $(basename "$MSI")" "$(since "$t")"; else cat "$W/msi.log"; bad msiexec "install failed"; fi
RUN=$(wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v kep 2>/dev/null | tr -d '\r')
if echo "$RUN" | grep -q 'kep.exe" agent'; then ok "Run key: $(echo "$RUN" | grep kep | xargs)" "-"; else echo "$RUN"; bad "Run key" "missing"; fi
if [ -f extension/extension.go ]; then
	HOST=$(sed -n 's/^[[:space:]]*HostName *= *"\(.*\)"/\1/p' extension/extension.go)
	for k in 'Software\Google\Chrome' 'Software\Mozilla' 'Software\Microsoft\Edge'; do
		V=$(wine reg query "HKCU\\$k\\NativeMessagingHosts\\$HOST" /ve 2>/dev/null | tr -d '\r')
		if echo "$V" | grep -q "$HOST"; then ok "native-messaging key HKCU\\$k\\NativeMessagingHosts\\$HOST" "-"; else echo "$V"; bad "native-messaging key $k" missing; fi
	done
fi
EXE=$(echo "$RUN" | sed -n 's/.*"\(.*kep.exe\)".*/\1/p')
DLL="${EXE%kep.exe}kep-pkcs11.dll"
t=$(now); V=$(wine "$EXE" version 2>&1 | tr -d '\r')
if echo "$V" | grep -q "windows/amd64"; then ok "kep.exe version: $V" "$(since "$t")"; else bad "kep.exe version" "$V"; fi
# The demo software token (made by the Linux build), served by kep-pkcs11.dll.
"$W/debroot/usr/bin/kep" version >/dev/null 2>&1 || dpkg-deb -x "$DEB" "$W/debroot"
"$W/debroot/usr/bin/kep" demo init "$W/demo" > "$W/demo.log" 2>&1
TP=$(sed -n '/^  person/{n;s/^ *\([0-9A-F]\{40\}\).*/\1/p}' "$W/demo.log")
export KEP_SOFT_DIR=$(winepath -w "$W/demo/token") KEP_PIN=12345678
t=$(now); T=$(wine "$EXE" tokens --module "$DLL" 2>&1 | tr -d '\r')
if echo "$T" | grep -q '"kep demo"'; then ok "kep.exe tokens --module kep-pkcs11.dll" "$(since "$t")"; else echo "$T"; bad "kep.exe tokens" "no token"; fi
echo "Договор поставки № 17" > "$W/doc.txt"
t=$(now)
if wine "$EXE" sign --module "$DLL" --cert "$TP" -o "$(winepath -w "$W/doc.txt.sig")" "$(winepath -w "$W/doc.txt")" >"$W/sign.log" 2>&1 && [ -s "$W/doc.txt.sig" ]; then
	ok "kep.exe sign --module kep-pkcs11.dll (GOST, $(stat -c %s "$W/doc.txt.sig") bytes)" "$(since "$t")"; else cat "$W/sign.log"; bad "kep.exe sign" failed; fi
t=$(now)
if wine "$EXE" verify --content "$(winepath -w "$W/doc.txt")" --trust "$(winepath -w "$W/demo/ca.pem")" --crl "$(winepath -w "$W/demo/ca.crl")" "$(winepath -w "$W/doc.txt.sig")" >"$W/verify.log" 2>&1; then
	ok "kep.exe verify (TOTAL_PASSED)" "$(since "$t")"; else cat "$W/verify.log"; bad "kep.exe verify" failed; fi
ENG=$(openssl version -e | sed -n 's/.*"\(.*\)"/\1/p')/gost.so
printf 'openssl_conf = d\n[d]\nengines = e\n[e]\ngost = g\n[g]\nengine_id = gost\ndynamic_path = %s\ndefault_algorithms = ALL\n' "$ENG" > "$W/ossl.cnf"
if OPENSSL_CONF=$W/ossl.cnf openssl cms -verify -binary -inform DER -in "$W/doc.txt.sig" -content "$W/doc.txt" -CAfile "$W/demo/ca.pem" -purpose any -out /dev/null 2>"$W/ossl.log"; then
	ok "openssl cms -verify of kep.exe's signature (Linux)" "-"; else cat "$W/ossl.log"; bad "openssl cms -verify" failed; fi
# kep.exe agent under Wine with the demo token on kep-pkcs11.dll (a copy
# where the module looks without KEP_SOFT_DIR: %APPDATA%\kep\soft, since the
# agent would also open KEP_SOFT_DIR itself), on a free loopback port, used
# by the demo portal in headless Chromium on Linux: TestBrowserExternalAgent
# (agent/portal) opens the confirmation pages whose addresses the agent
# prints (--no-browser), as a person reading its terminal would.
APPDATA_U=$WINEPREFIX/drive_c/users/$(id -un)/AppData/Roaming
mkdir -p "$APPDATA_U/kep" && cp -r "$W/demo/token" "$APPDATA_U/kep/soft"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t=$(now); env -u KEP_PIN -u KEP_SOFT_DIR wine "$EXE" agent --module "$DLL" --no-discover --no-browser --port "$PORT" >"$W/agent.log" 2>&1 & AGENT_PID=$!
got=""; for _ in $(seq 1 120); do got=$(curl -s -m 2 "http://127.0.0.1:$PORT/" 2>/dev/null) && [ -n "$got" ] && break; sleep 0.5; done
if echo "$got" | grep -q '"name":"kep"'; then ok "kep.exe agent --module kep-pkcs11.dll answers on 127.0.0.1:$PORT: $got" "$(since "$t")"; else cat "$W/agent.log"; bad "kep.exe agent" "no answer"; fi
t=$(now)
if wait "$BUILD_PID"; then BUILD_PID=""; echo "portal test built (waited $(since "$t"))"; else BUILD_PID=""; cat "$W/portal-build.log"; fi
t=$(now); mkdir -p "$W/portal-out"
(cd agent/portal && KEP_TEST_EXTERNAL_AGENT=127.0.0.1:$PORT KEP_TEST_EXTERNAL_TOKEN=pkcs11 KEP_TEST_EXTERNAL_AGENT_LOG=$W/agent.log KEP_TEST_EXTERNAL_DEMO=$W/demo \
	KEP_TEST_EXTERNAL_OUT=$W/portal-out "$W/portal.test" -test.run '^TestBrowserExternalAgent$' -test.v -test.count=1 -test.timeout 5m) >"$W/portal.log" 2>&1
if grep -q '^--- PASS: TestBrowserExternalAgent' "$W/portal.log"; then
	ok "demo portal in headless Chromium ↔ kep.exe agent under Wine on kep-pkcs11.dll: access window, $(grep -c 'kep: open http' "$W/agent.log") confirmations answered, every demo certificate listed, login (wrong PIN, then right), document signed, checked by openssl and the portal" "$(since "$t")"
else cat "$W/portal.log"; echo "agent's output:"; cat "$W/agent.log"; bad "portal ↔ kep.exe agent" "TestBrowserExternalAgent did not pass"; fi
SIG=$W/portal-out/Договор.txt.sig DOC=$W/portal-out/Договор.txt
t=$(now)
if [ -s "$SIG" ] && "$W/debroot/usr/bin/kep" verify --content "$DOC" --trust "$W/demo/ca.pem" --crl "$W/demo/ca.crl" "$SIG" >"$W/verify2.log" 2>&1; then
	ok "Linux kep verify of the signature kep.exe agent made for the portal (TOTAL_PASSED)" "$(since "$t")"; else cat "$W/verify2.log"; bad "kep verify (portal's signature)" failed; fi
if [ -s "$SIG" ] && OPENSSL_CONF=$W/ossl.cnf openssl cms -verify -binary -inform DER -in "$SIG" -content "$DOC" -CAfile "$W/demo/ca.pem" -purpose any -out /dev/null 2>"$W/ossl2.log"; then
	ok "openssl cms -verify of the portal's signature (Linux)" "-"; else cat "$W/ossl2.log"; bad "openssl cms -verify (portal's signature)" failed; fi
# The browser extension's road, kep.exe native-host: its framing under
# Wine, and the relay to the agent when Wine can make the agent's AF_UNIX
# socket (Wine 8.0 cannot: socket() fails with WSAEAFNOSUPPORT, 10047).
t=$(now)
python3 -c 'import json, struct, sys
for m in ({"kep": "open", "v": 1, "origin": "https://portal.example"}, {"jsonrpc": "2.0", "id": 1, "method": "agent.info"}):
    b = json.dumps(m).encode(); sys.stdout.buffer.write(struct.pack("<I", len(b)) + b)' >"$W/nh.in"
RELAY=0; grep -q 'browser extension relay' "$W/agent.log" && RELAY=3  # then stdin stays open 3 s for the agent's answer
{ cat "$W/nh.in"; sleep "$RELAY"; } | KEP_NATIVE_HOST_NO_START=1 timeout 30 wine "$EXE" native-host \
	"chrome-extension://$(sed -n 's/^[[:space:]]*ChromeID *= *"\(.*\)"/\1/p' extension/extension.go)/" >"$W/nh.out" 2>"$W/nh.err"
NH=$(python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
while len(d) >= 4:
    n = struct.unpack("<I", d[:4])[0]; print(d[4:4 + n].decode()); d = d[4 + n:]' "$W/nh.out")
if [ "$RELAY" != 0 ]; then
	if echo "$NH" | grep -q '"name":"kep"'; then ok "kep.exe native-host relays agent.info to kep.exe agent over its AF_UNIX socket" "$(since "$t")"
	else echo "$NH"; cat "$W/nh.err"; bad "kep.exe native-host" "no agent.info answer through the relay"; fi
elif echo "$NH" | grep -q '"kep":"closed".*"reason":"AGENT_UNREACHABLE"'; then
	ok "kep.exe native-host framing under Wine (answers closed/AGENT_UNREACHABLE: this Wine has no AF_UNIX, the agent says $(grep -o 'winapi error #[0-9]*' "$W/agent.log" | head -1))" "$(since "$t")"
else echo "$NH"; cat "$W/nh.err"; bad "kep.exe native-host" "no well-formed answer"; fi
# Ctrl-C (Wine turns SIGINT into CTRL_C_EVENT): the agent shuts down and exits 0.
t=$(now); kill -INT "$AGENT_PID"
for _ in $(seq 1 40); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.25; done
if kill -0 "$AGENT_PID" 2>/dev/null; then bad "kep.exe agent stop" "still running 10 s after Ctrl-C"; kill "$AGENT_PID"; wait "$AGENT_PID"
else wait "$AGENT_PID"; rc=$?
	if [ "$rc" = 0 ] && ! curl -s -m 2 "http://127.0.0.1:$PORT/" >/dev/null 2>&1; then ok "kep.exe agent stopped on Ctrl-C: exit 0, port closed" "$(since "$t")"
	else bad "kep.exe agent stop" "exit $rc after Ctrl-C (or the port still answers)"; fi
fi
AGENT_PID=""
cp "$(winepath -u "$EXE")" "$W/kep.exe"  # for kep install below, after the MSI is gone
t=$(now)
if wine msiexec /x "$(winepath -w "$MSI")" /qn >>"$W/msi.log" 2>&1 && ! wine reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' /v kep >/dev/null 2>&1; then
	ok "wine msiexec /x: Run key gone" "$(since "$t")"; else bad "msiexec /x" "Run key left"; fi
# kep install / uninstall without the MSI (kep.exe from a zip or a
# download): the HKCU Run value, the native-messaging keys and manifests of
# every browser kep knows (--all-browsers: Wine has none installed) and the
# launcher, checked in `reg export` by scripts/wine/installcheck.py; run
# twice (the second changes nothing) with kep doctor's view; then
# uninstall leaving nothing, kep's folder included.
KX=$(winepath -w "$W/kep.exe")
regexport() { wine reg export 'HKCU\Software' "$(echo "Z:$W/$1" | tr / '\\')" /y >/dev/null 2>&1; }
t=$(now); wine "$W/kep.exe" install --all-browsers --json >"$W/inst1.json" 2>/dev/null; regexport hkcu1.reg
if IC=$(python3 scripts/wine/installcheck.py installed "$W/hkcu1.reg" "$WINEPREFIX" "$KX" "$W/inst1.json"); then ok "kep.exe install: $IC" "$(since "$t")"
else cat "$W/inst1.json"; bad "kep.exe install" "$IC"; fi
t=$(now); wine "$W/kep.exe" install --all-browsers --json >"$W/inst2.json" 2>/dev/null; wine "$W/kep.exe" doctor --json >"$W/doc1.json" 2>/dev/null
if IC=$(python3 scripts/wine/installcheck.py again "$W/inst2.json" "$W/doc1.json"); then ok "kep.exe install again: $IC" "$(since "$t")"
else bad "kep.exe install (second run)" "$IC"; fi
t=$(now); wine "$W/kep.exe" uninstall >"$W/uninst.log" 2>&1; regexport hkcu2.reg; wine "$W/kep.exe" doctor --json >"$W/doc2.json" 2>/dev/null
if IC=$(python3 scripts/wine/installcheck.py removed "$W/hkcu2.reg" "$WINEPREFIX" "$W/inst1.json" "$W/doc2.json"); then ok "kep.exe uninstall: $IC" "$(since "$t")"
else tr -d '\r' <"$W/uninst.log"; bad "kep.exe uninstall" "$IC"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
