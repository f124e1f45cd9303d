#!/usr/bin/env bash
# make release: kep's packages with SHA-256 sums, in OUT (default dist/).
#   kep_VERSION_amd64.deb      /usr/bin/kep, /usr/lib/kep/kep-pkcs11.so, the systemd user unit,
#                              the native-messaging host launcher and manifests
#   kep-VERSION-1.x86_64.rpm   the same files (ALT, RED OS)
#   kep-VERSION-x64.msi        kep.exe, kep-pkcs11.dll, HKCU Run autostart, native-messaging keys
#   kep-VERSION-darwin-{arm64,amd64}.tar.gz   kep (cgo-free PKCS#11 loader), LaunchAgent plist
#   SHA256SUMS
# Reproducible: SOURCE_DATE_EPOCH (the last commit's time) fixes every time
# stamp, -trimpath and -buildid= keep paths and build ids out of binaries,
# tar and the packages get sorted names, fixed mtime and root owner. One
# exception: wixl writes the build's wall-clock time into the MSI's summary
# information (Created, Last saved); scripts/test-platforms.sh checks that
# nothing else differs.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-dist}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
VERSION=${VERSION:-0.1.0+git$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || echo 0).$(git rev-parse --short=10 HEAD 2>/dev/null || echo local)}
GO=${GO:-go}
export TZ=UTC LC_ALL=C
LDFLAGS="-s -w -buildid= -X main.version=$VERSION"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/kep[_-]* "$OUT"/SHA256SUMS
t0=$(date +%s)

gobuild() { # GOOS GOARCH CGO CC OUTPUT [extra args] PACKAGE
	local os=$1 arch=$2 cgo=$3 cc=$4 out=$5; shift 5
	GOOS=$os GOARCH=$arch CGO_ENABLED=$cgo CC=$cc GOFLAGS=-buildvcs=false \
		CGO_CFLAGS="-O2 -ffile-prefix-map=$PWD=." CGO_LDFLAGS="" \
		$GO build -trimpath -ldflags="$LDFLAGS" -o "$out" "$@"
}
echo "building binaries (version $VERSION, SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH)"
gobuild linux amd64 1 gcc "$W/linux/kep" ./cmd/kep
gobuild linux amd64 1 gcc "$W/linux/kep-pkcs11.so" -buildmode=c-shared ./pkcs11/module
# kep.exe without cgo: the purego loader (measured against a MinGW cgo build: see README).
gobuild windows amd64 0 "" "$W/windows/kep.exe" ./cmd/kep
gobuild windows amd64 1 x86_64-w64-mingw32-gcc "$W/windows/kep-pkcs11.dll" -buildmode=c-shared ./pkcs11/module
gobuild darwin arm64 0 "" "$W/darwin-arm64/kep" ./cmd/kep
gobuild darwin amd64 0 "" "$W/darwin-amd64/kep" ./cmd/kep
rm -f "$W"/*/*.h

# The native-messaging host (issue 14's extension), when this tree has it.
HOST="" CHROME_ORIGIN="" FIREFOX_ID=""
if [ -f extension/extension.go ]; then
	HOST=$(sed -n 's/^[[:space:]]*HostName *= *"\(.*\)"/\1/p' extension/extension.go)
	CHROME_ID=$(sed -n 's/^[[:space:]]*ChromeID *= *"\(.*\)"/\1/p' extension/extension.go)
	FIREFOX_ID=$(sed -n 's/^[[:space:]]*FirefoxID *= *"\(.*\)"/\1/p' extension/extension.go)
	[ -n "$CHROME_ID" ] && CHROME_ORIGIN="chrome-extension://$CHROME_ID/"
fi
manifest() { # PATH firefox|chrome
	if [ "$2" = firefox ]; then
		printf '{\n  "name": "%s",\n  "description": "kep signing agent",\n  "path": "%s",\n  "type": "stdio",\n  "allowed_extensions": ["%s"]\n}\n' "$HOST" "$1" "$FIREFOX_ID"
	else
		printf '{\n  "name": "%s",\n  "description": "kep signing agent",\n  "path": "%s",\n  "type": "stdio",\n  "allowed_origins": ["%s"]\n}\n' "$HOST" "$1" "$CHROME_ORIGIN"
	fi
}

# --- Linux file tree, shared by the .deb and the .rpm ---
R=$W/root
install -D -m 755 "$W/linux/kep" "$R/usr/bin/kep"
install -D -m 644 "$W/linux/kep-pkcs11.so" "$R/usr/lib/kep/kep-pkcs11.so"
install -D -m 644 packaging/kep-agent.service "$R/usr/lib/systemd/user/kep-agent.service"
install -D -m 644 README.md "$R/usr/share/doc/kep/README.md"
install -D -m 644 LICENSE "$R/usr/share/doc/kep/LICENSE"
if [ -n "$HOST" ]; then
	install -d "$R/usr/lib/kep"
	printf '#!/bin/sh\nexec /usr/bin/kep native-host "$@"\n' > "$R/usr/lib/kep/kep-native-host"; chmod 755 "$R/usr/lib/kep/kep-native-host"
	for d in etc/opt/chrome/native-messaging-hosts etc/chromium/native-messaging-hosts etc/opt/edge/native-messaging-hosts etc/opt/yandex/browser/native-messaging-hosts; do
		install -d "$R/$d"; manifest /usr/lib/kep/kep-native-host chrome > "$R/$d/$HOST.json"
	done
	install -d "$R/usr/lib/mozilla/native-messaging-hosts"
	manifest /usr/lib/kep/kep-native-host firefox > "$R/usr/lib/mozilla/native-messaging-hosts/$HOST.json"
fi
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# --- .deb (dpkg-deb; ar and tar members with fixed times) ---
DEBV=${VERSION//+/\~}   # "~" keeps git snapshots below the release they precede
D=$W/deb; mkdir -p "$D"; cp -a "$R/." "$D/"
mkdir -p "$D/DEBIAN"
cat > "$D/DEBIAN/control" <<CTL
Package: kep
Version: $DEBV
Architecture: amd64
Maintainer: kep developers <kep@kepkit.github.io>
Depends: libc6
Recommends: opensc, pcscd
Section: utils
Priority: optional
Homepage: https://github.com/kepkit/kep
Description: Russian qualified electronic signatures (КЭП) without browser plug-ins
 kep signs and verifies CMS/CAdES with GOST keys on PKCS#11 tokens or its
 software token, and runs a local agent that web pages use to sign and log in.
CTL
cat > "$D/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
# Start the agent with every user session (per-user units; each user may
# `systemctl --user disable kep-agent`).
if [ "$1" = configure ] && command -v systemctl >/dev/null 2>&1; then
	systemctl --global enable kep-agent.service >/dev/null 2>&1 || true
fi
SH
cat > "$D/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] && command -v systemctl >/dev/null 2>&1; then
	systemctl --global disable kep-agent.service >/dev/null 2>&1 || true
fi
SH
chmod 755 "$D/DEBIAN/postinst" "$D/DEBIAN/prerm"
find "$D" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
DEB="$OUT/kep_${DEBV}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$D" "$DEB" >/dev/null

# --- .rpm (rpmbuild from the same tree) ---
RPMV=${VERSION%%+*}; RPMREL="1.${VERSION#*+}"; [ "$RPMV" = "$VERSION" ] && RPMREL=1
RB=$W/rpmbuild; mkdir -p "$RB"/{SPECS,RPMS,BUILD,BUILDROOT}
{
	echo "Name: kep"; echo "Version: $RPMV"; echo "Release: $RPMREL"
	echo "Summary: Russian qualified electronic signatures (KEP) without browser plug-ins"
	echo "License: Apache-2.0"; echo "URL: https://github.com/kepkit/kep"
	echo "%description"; echo "kep signs and verifies CMS/CAdES with GOST keys on PKCS#11 tokens or its software token, and runs a local agent for web pages."
	echo "%install"; echo "cp -a $R/. %{buildroot}/"
	echo "%post"; echo "systemctl --global enable kep-agent.service >/dev/null 2>&1 || :"
	echo "%preun"; echo 'if [ "$1" = 0 ]; then systemctl --global disable kep-agent.service >/dev/null 2>&1 || :; fi'
	echo "%files"; (cd "$R" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort)
} > "$RB/SPECS/kep.spec"
rpmbuild -bb --quiet --target x86_64 --define "_topdir $RB" --define "_build_id_links none" \
	--define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
	--define "_buildhost reproducible" --define "__os_install_post %{nil}" --define "debug_package %{nil}" \
	"$RB/SPECS/kep.spec" >/dev/null
cp "$RB"/RPMS/x86_64/*.rpm "$OUT/"

# --- Windows .msi (wixl) ---
MSIV=$(echo "$RPMV" | sed 's/[^0-9.]//g')
# The product code follows from the version (not random), so that two builds match.
PC=$(printf 'kep msi %s' "$VERSION" | sha256sum | cut -c1-32)
PRODUCT_CODE="${PC:0:8}-${PC:8:4}-${PC:12:4}-${PC:16:4}-${PC:20:12}"
# The package code (summary "revision number") follows from the files it holds.
PK=$(cat "$W/windows/kep.exe" "$W/windows/kep-pkcs11.dll" | sha256sum | cut -c1-32)
PACKAGE_CODE="${PK:0:8}-${PK:8:4}-${PK:12:4}-${PK:16:4}-${PK:20:12}"
WX=$W/wix; mkdir -p "$WX"; cp "$W/windows/kep.exe" "$W/windows/kep-pkcs11.dll" "$WX/"
NM_COMP="" NM_REF=""
if [ -n "$HOST" ]; then
	printf '@"%%~dp0kep.exe" native-host %%*\r\n' > "$WX/kep-native-host.cmd"
	manifest 'kep-native-host.cmd' chrome > "$WX/$HOST.json"          # relative to the manifest (Chrome resolves it so)
	manifest 'kep-native-host.cmd' firefox > "$WX/$HOST.firefox.json"
	NM_COMP="<Component Id=\"NativeHost\" Guid=\"9a7f1b52-3c0e-4a8e-9d1f-6b2c4e8a1f03\">
          <File Id=\"NativeHostCmd\" Source=\"kep-native-host.cmd\"/>
          <File Id=\"ChromeManifest\" Source=\"$HOST.json\"/>
          <File Id=\"FirefoxManifest\" Source=\"$HOST.firefox.json\"/>
          <RegistryValue Root=\"HKCU\" Key=\"Software\\Google\\Chrome\\NativeMessagingHosts\\$HOST\" Type=\"string\" Value=\"[INSTALLDIR]$HOST.json\" KeyPath=\"yes\"/>
          <RegistryValue Root=\"HKCU\" Key=\"Software\\Chromium\\NativeMessagingHosts\\$HOST\" Type=\"string\" Value=\"[INSTALLDIR]$HOST.json\"/>
          <RegistryValue Root=\"HKCU\" Key=\"Software\\Microsoft\\Edge\\NativeMessagingHosts\\$HOST\" Type=\"string\" Value=\"[INSTALLDIR]$HOST.json\"/>
          <RegistryValue Root=\"HKCU\" Key=\"Software\\Yandex\\YandexBrowser\\NativeMessagingHosts\\$HOST\" Type=\"string\" Value=\"[INSTALLDIR]$HOST.json\"/>
          <RegistryValue Root=\"HKCU\" Key=\"Software\\Mozilla\\NativeMessagingHosts\\$HOST\" Type=\"string\" Value=\"[INSTALLDIR]$HOST.firefox.json\"/>
        </Component>"
	NM_REF='<ComponentRef Id="NativeHost"/>'
fi
cat > "$WX/kep.wxs" <<WXS
<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="$PRODUCT_CODE" Name="kep" Language="1033" Version="$MSIV" Manufacturer="kep developers"
           UpgradeCode="5f0c2a3e-7b1d-4c6a-9e2f-3d8b1a6c4e70" Codepage="65001">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perUser" Comments="kep $VERSION"/>
    <MajorUpgrade DowngradeErrorMessage="A newer kep is installed."/>
    <Media Id="1" Cabinet="kep.cab" EmbedCab="yes"/>
    <Property Id="ALLUSERS" Value="2"/>
    <Property Id="MSIINSTALLPERUSER" Value="1"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="LocalAppDataFolder">
        <Directory Id="ProgramsDir" Name="Programs">
          <Directory Id="INSTALLDIR" Name="kep">
            <Component Id="Kep" Guid="3b1e8c47-2f6d-4e59-a0c8-7d4f2b9e1a65">
              <File Id="KepExe" Source="kep.exe"/>
              <File Id="KepDll" Source="kep-pkcs11.dll"/>
              <RegistryValue Root="HKCU" Key="Software\\Microsoft\\Windows\\CurrentVersion\\Run" Name="kep" Type="string"
                             Value="&quot;[INSTALLDIR]kep.exe&quot; agent" KeyPath="yes"/>
              <RemoveFolder Id="RemoveInstallDir" On="uninstall"/>
            </Component>
            $NM_COMP
          </Directory>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1">
      <ComponentRef Id="Kep"/>
      $NM_REF
    </Feature>
  </Product>
</Wix>
WXS
find "$WX" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
MSI="$OUT/kep-$RPMV-x64.msi"
(cd "$WX" && wixl -a x64 -o "$MSI" kep.wxs)
# wixl draws the package code at random whatever the .wxs says: set it.
msibuild "$MSI" -s "kep" "kep developers" "x64;1033" "{$PACKAGE_CODE}"

# --- macOS tarballs ---
for arch in arm64 amd64; do
	T=$W/tar-$arch/kep-$RPMV-darwin-$arch
	install -D -m 755 "$W/darwin-$arch/kep" "$T/kep"
	install -D -m 644 packaging/io.github.kepkit.kep.agent.plist "$T/io.github.kepkit.kep.agent.plist"
	install -D -m 644 README.md "$T/README.md"; install -D -m 644 LICENSE "$T/LICENSE"
	tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner --format=posix \
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		-C "$W/tar-$arch" -cf - "kep-$RPMV-darwin-$arch" | gzip -9n > "$OUT/kep-$RPMV-darwin-$arch.tar.gz"
done

(cd "$OUT" && sha256sum kep[_-]* > SHA256SUMS)
echo "release in $OUT ($(( $(date +%s) - t0 ))s):"; cat "$OUT/SHA256SUMS"
