#!/bin/bash
# Builds Ferry's own qemu-system-x86_64 for fault tolerance (issue 12): Debian's qemu source
# package with the patches of ft-qemu/patches (the COLO checkpoint BQL fix: stock 7.2 deadlocks
# the primary under TCG, see docs in ft-qemu/README.md), x86_64-softmmu only, installed into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ferry/qemu/<key>/{bin/qemu-system-x86_64,manifest.txt}
# and prints the binary's path as the LAST line on stdout; all progress goes to stderr.
# <key> covers the source package version, every patch and this script (configure flags
# included), so an unchanged rebuild is a cache hit that downloads nothing. It never installs
# over the system's QEMU: Debian's qemu-img, firmware and data stay in use.
# Needs a deb-src entry and the build dependencies: `scripts/bootstrap.sh test-ft` (as root)
# adds both.
# Usage: build-qemu.sh [--print-key]   (--print-key: the key's inputs and the key, builds nothing)
# FERRY_QEMU_SOURCE_VERSION pins the source version (default: the newest apt knows).
set -euo pipefail

PRINT_KEY=false
case "${1:-}" in
    "") ;;
    --print-key) PRINT_KEY=true ;;
    *) echo "usage: build-qemu.sh [--print-key]" >&2; exit 2 ;;
esac

FT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_PKG=qemu
# colo.md: enough for x86_64-softmmu with the features below (not `apt-get build-dep qemu`)
BUILD_DEPS=(build-essential dpkg-dev pkg-config meson ninja-build python3-venv flex bison
            libglib2.0-dev libpixman-1-dev libfdt-dev libslirp-dev libzstd-dev libaio-dev
            liburing-dev zlib1g-dev libseccomp-dev)
# The dfsg source has no firmware blobs: Debian's seabios, ipxe-qemu and qemu-system-data
# packages (pulled by qemu-system-x86) provide them, and the installed binary looks here.
FIRMWARE_PATH=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu

log() { echo "build-qemu: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ inputs and key
# The newest source version apt knows (local metadata only: bootstrap ran apt-get update after
# adding the deb-src entry). A Debian security update of qemu changes it, hence the key.
SOURCE_VER=${FERRY_QEMU_SOURCE_VERSION:-}
[ -n "$SOURCE_VER" ] || while IFS= read -r v; do
    if [ -z "$SOURCE_VER" ] || dpkg --compare-versions "$v" gt "$SOURCE_VER"; then SOURCE_VER=$v; fi
done < <(apt-cache showsrc "$SOURCE_PKG" 2>/dev/null | sed -n 's/^Version: //p')
[ -n "$SOURCE_VER" ] || die "apt knows no source package '$SOURCE_PKG': no deb-src entry (as root: scripts/bootstrap.sh test-ft)"

PATCHES=()
while IFS= read -r f; do PATCHES+=("$f"); done < <(cd "$FT_DIR" && find patches -type f -name '*.patch' | LC_ALL=C sort)
[ "${#PATCHES[@]}" -gt 0 ] || die "no patches in $FT_DIR/patches"

inputs() {
    echo "format 1"
    echo "source $SOURCE_PKG $SOURCE_VER"
    echo "script $(sha256sum <"$FT_DIR/build-qemu.sh" | cut -d' ' -f1)"
    local f
    for f in "${PATCHES[@]}"; do
        echo "patch $f $(sha256sum <"$FT_DIR/$f" | cut -d' ' -f1)"
    done
}
INPUTS=$(inputs)
KEY=$(printf '%s\n' "$INPUTS" | sha256sum | cut -c1-16)
CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/ferry/qemu
OUT=$CACHE_ROOT/$KEY
BIN=$OUT/bin/qemu-system-x86_64
if $PRINT_KEY; then
    printf '%s\nkey %s\n' "$INPUTS" "$KEY"
    exit 0
fi

cached() { [ -f "$OUT/manifest.txt" ] && [ -x "$BIN" ]; }
if cached; then
    log "cached: $OUT"
    echo "$BIN"
    exit 0
fi

# ------------------------------------------------------------------ tools and dependencies
command -v apt-get >/dev/null 2>&1 || die "'apt-get' not found: this builds Debian's qemu source package"
missing=()
for p in "${BUILD_DEPS[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] || die "missing build dependencies: ${missing[*]} (as root: scripts/bootstrap.sh test-ft)"


mkdir -p "$CACHE_ROOT"
# Two builds at once would only waste 2 cores: the second waits and then finds the cache.
exec 9>"$CACHE_ROOT/.lock"
flock 9
if cached; then
    log "cached (built meanwhile): $OUT"
    echo "$BIN"
    exit 0
fi

WORK=$(mktemp -d "$CACHE_ROOT/.build-$KEY.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)

# ------------------------------------------------------------------ source
log "fetching source $SOURCE_PKG $SOURCE_VER (Debian's patches applied by dpkg-source)"
(cd "$WORK" && apt-get source -q --download-only "$SOURCE_PKG=$SOURCE_VER" >&2)
dsc=$(ls "$WORK"/*.dsc)
dpkg-source -x "$dsc" "$WORK/src" >&2
for f in "${PATCHES[@]}"; do
    log "applying $f"
    patch -d "$WORK/src" -p1 --no-backup-if-mismatch -s <"$FT_DIR/$f" >&2 || die "$f does not apply to $SOURCE_PKG $SOURCE_VER"
done

# ------------------------------------------------------------------ configure and build
# Without default features, then only what a Ferry VM and COLO use: replication (block
# driver), quorum and the COLO proxy objects are built in unconditionally. fdt=system is
# required even for x86_64 in 7.2. seccomp: the agent starts every QEMU with -sandbox, which a
# build without it refuses. docs/tools/guest agent/blobs would only cost build time.
PKGVERSION="Debian $SOURCE_VER + Ferry $(printf '%s ' "${PATCHES[@]##*/}" | sed 's/ $//')"
log "configuring (x86_64-softmmu only, prefix $OUT)"
mkdir "$WORK/build"
(cd "$WORK/build" && "$WORK/src/configure" \
    --prefix="$OUT" \
    --target-list=x86_64-softmmu \
    --without-default-features \
    --enable-tcg --enable-kvm --enable-fdt=system --enable-slirp --enable-replication \
    --enable-linux-aio --enable-linux-io-uring --enable-zstd \
    --enable-vhost-kernel --enable-vhost-net --enable-seccomp \
    --disable-docs --disable-tools --disable-guest-agent --disable-install-blobs \
    --with-git-submodules=ignore \
    --firmwarepath="$FIRMWARE_PATH" \
    --with-pkgversion="$PKGVERSION" >&2) || die "configure failed"

log "building qemu-system-x86_64 ($(nproc) jobs)"
# Only the emulator and its trace events: `ninja install` would also build ~900 test targets.
ninja -C "$WORK/build" -j "$(nproc)" qemu-system-x86_64 trace/trace-events-all >&2 || die "build failed"

# ------------------------------------------------------------------ install (atomic)
STAGE=$WORK/stage
meson install -C "$WORK/build" --no-rebuild --strip --destdir "$STAGE" >&2 || die "install failed"
[ -x "$STAGE$BIN" ] || die "the install did not produce $STAGE$BIN"
"$STAGE$BIN" --version >&2 || die "the built binary does not run"
{
    printf '%s\n' "$INPUTS"
    echo "binary-sha256 $(sha256sum <"$STAGE$BIN" | cut -d' ' -f1)"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - START )) s"
} >"$STAGE$OUT/manifest.txt"
# A cache directory only ever appears by an atomic rename of a finished install.
mv "$STAGE$OUT" "$OUT"
log "built in $(( $(date +%s) - START )) s: $BIN"
echo "$BIN"
