#!/usr/bin/env bash
# Builds the Debian package of Ferry from the built jar: `./ferry package` runs it.
#   package.sh JAR OUT_DIR   prints the path of the .deb as its last line
# Contents: /usr/bin/ferry, /usr/share/ferry/ferry.jar, the systemd units ferry-controller.service
# and ferry-agent.service, /etc/ferry/{controller,agent}.conf (conffiles), docs; postinst creates
# the users ferry (controller) and ferry-qemu (QEMU under the agent). Needs dpkg-deb only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=${1:?usage: package.sh JAR OUT_DIR}
OUT=${2:?usage: package.sh JAR OUT_DIR}
command -v dpkg-deb >/dev/null || { echo "ferry package: needs dpkg-deb (Debian package dpkg)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "ferry package: no jar at $JAR" >&2; exit 1; }

# 0.1.0-SNAPSHOT -> 0.1.0~snapshot: sorts before the release 0.1.0
pom_version=$(sed -n 's/^version=//p' <(unzip -p "$JAR" ferry-version.properties 2>/dev/null) | head -n1)
[ -n "$pom_version" ] || pom_version=$(sed -n '0,/<version>/s/.*<version>\([^<]*\)<\/version>.*/\1/p' "$ROOT/pom.xml" | head -n1)
version=$(printf '%s' "$pom_version" | sed 's/-SNAPSHOT$/~snapshot/; s/-/~/g')

stage=$(mktemp -d "${TMPDIR:-/tmp}/ferry-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
P="$ROOT/packaging"
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/ferry" "$stage/lib/systemd/system" \
  "$stage/etc/ferry" "$stage/usr/share/doc/ferry"
install -m 0755 "$P/bin/ferry" "$stage/usr/bin/ferry"
install -m 0644 "$JAR" "$stage/usr/share/ferry/ferry.jar"
install -m 0644 "$P/systemd/ferry-controller.service" "$P/systemd/ferry-agent.service" "$stage/lib/systemd/system/"
install -m 0640 "$P/etc/controller.conf" "$P/etc/agent.conf" "$stage/etc/ferry/"
install -m 0644 "$ROOT/README.md" "$ROOT/docs/deploy.md" "$stage/usr/share/doc/ferry/"
install -m 0644 "$P/debian/conffiles" "$stage/DEBIAN/conffiles"
install -m 0755 "$P/debian/postinst" "$P/debian/prerm" "$P/debian/postrm" "$stage/DEBIAN/"
size_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" "$P/debian/control.in" > "$stage/DEBIAN/control"
printf 'Installed-Size: %s\n' "$size_kb" >> "$stage/DEBIAN/control"

mkdir -p "$OUT"
deb="$OUT/ferry_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "ferry package: built $deb" >&2
echo "$deb"
