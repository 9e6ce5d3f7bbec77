#!/usr/bin/env bash
# Installs a build of ft-qemu/build-qemu.sh where the agent's QEMU user can run it (docs/ft.md):
# a root agent runs QEMU as ferry-qemu, which cannot enter /root (0700), where the build is
# cached. As root, copies the build's prefix (bin/, share/: QEMU 7.2 finds its data relative to
# the binary) to /usr/local/lib/ferry/qemu/<key>/ (root-owned, world-readable), once per key, by
# an atomic rename; prints the installed binary's path as its last line. Not root: prints the
# built binary's path unchanged (QEMU then runs as the agent's own user anyway).
# Usage: install-ft-qemu.sh BUILT_BINARY   (the last line of build-qemu.sh)
set -euo pipefail

built=${1:?usage: install-ft-qemu.sh BUILT_BINARY}
[ -x "$built" ] || { echo "install-ft-qemu: $built is not an executable" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then echo "$built"; exit 0; fi

prefix=$(cd "$(dirname "$built")/.." && pwd)
key=$(basename "$prefix")
root=${FERRY_FT_QEMU_INSTALL_ROOT:-/usr/local/lib/ferry/qemu}
dest=$root/$key
if [ ! -f "$dest/manifest.txt" ]; then
  mkdir -p "$root"
  chmod 755 "$root" "$(dirname "$root")"
  tmp=$(mktemp -d "$root/.install-$key.XXXXXX")
  cp -a "$prefix"/. "$tmp"/
  chown -R root:root "$tmp"
  chmod -R u+rwX,go+rX,go-w "$tmp"
  mv "$tmp" "$dest"
  echo "install-ft-qemu: installed $prefix as $dest" >&2
fi
echo "$dest/bin/qemu-system-x86_64"
