#!/bin/bash
# Builds the Ferry test guest (Debian cloud kernel + busybox initramfs + ferry-workload) into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/ferry/guest/<hash>/{vmlinuz,initrd.img,manifest.txt}
# and prints that directory as the LAST line on stdout; all progress goes to stderr.
# <hash> covers every input (the files of this directory that go into the guest, the kernel
# package and version, busybox-static and gcc versions), so an unchanged rebuild is a cache hit
# that downloads nothing.
set -euo pipefail

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KERNEL_META=linux-image-cloud-amd64
# insmod order: each module depends only on modules before it.
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk
         failover net_failover virtio_net button evdev)

log() { echo "build-guest: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need() {   # need COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install the Debian package '$2'"
}

# ------------------------------------------------------------------ tools
need apt-get apt
need apt-cache apt
need dpkg-deb dpkg
need dpkg-query dpkg
need cpio cpio
need gcc gcc
need gzip gzip
need sha256sum coreutils
[ -x /bin/busybox ] && [ "$(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null)" = "install ok installed" ] \
    || die "/bin/busybox must come from the Debian package 'busybox-static' (not 'busybox')"
[ -e "$(gcc -print-file-name=libc.a)" ] || die "static libc missing: install the Debian package 'libc6-dev'"

# ------------------------------------------------------------------ inputs and hash
# Files of guest/ that go into the guest (README.md and the like do not).
INPUT_FILES=(build-guest.sh init udhcpc.script)
while IFS= read -r f; do INPUT_FILES+=("$f"); done < <(cd "$GUEST_DIR" && find workload -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

# The kernel package the metapackage currently points to, e.g. linux-image-6.1.0-56-cloud-amd64
# 6.1.192-2. Local apt metadata only; `apt-get update` only when there is none.
resolve_kernel() {   # one apt-cache call (~0.5 s): --no-all-versions shows only the candidate
    apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null \
        | sed -n 's/^Depends:.*\(linux-image-[^ ,]*-cloud-amd64\) (= \([^)]*\)).*/\1 \2/p' | head -n1
}
KERNEL=$(resolve_kernel || true)
if [ -z "$KERNEL" ]; then
    log "no apt metadata for $KERNEL_META: running apt-get update"
    apt-get update >&2 || die "apt-get update failed"
    KERNEL=$(resolve_kernel || true)
    [ -n "$KERNEL" ] || die "cannot resolve the kernel package behind $KERNEL_META"
fi
KERNEL_PKG=${KERNEL% *}
KERNEL_VER=${KERNEL#* }
BUSYBOX_VER=$(dpkg-query -W -f='${Version}' busybox-static)
GCC_VER=$(gcc --version | head -n1)

inputs() {
    echo "format 1"
    local f
    for f in "${INPUT_FILES[@]}"; do
        echo "file $f $(sha256sum <"$GUEST_DIR/$f" | cut -d' ' -f1)"
    done
    echo "kernel $KERNEL_PKG $KERNEL_VER"
    echo "busybox-static $BUSYBOX_VER"
    echo "gcc $GCC_VER"
}
INPUTS=$(inputs)
HASH=$(printf '%s\n' "$INPUTS" | sha256sum | cut -c1-16)
CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/ferry/guest
OUT=$CACHE_ROOT/$HASH

# A cache directory only ever appears by an atomic rename of a finished build.
if [ -f "$OUT/manifest.txt" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.img" ]; then
    log "cached: $OUT"
    echo "$OUT"
    exit 0
fi

# ------------------------------------------------------------------ build
START=$(date +%s)
mkdir -p "$CACHE_ROOT"
# Remove leftovers of killed builds (an EXIT trap does not run on SIGKILL; each is ~100 MB):
# those whose builder process is gone, or older than an hour.
for d in "$CACHE_ROOT"/.build-*; do
    [ -d "$d" ] || continue
    pid=$(cat "$d/.pid" 2>/dev/null || true)
    if { [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; } || [ -n "$(find "$d" -maxdepth 0 -mmin +60)" ]; then
        log "removing stale $d"
        rm -rf "$d"
    fi
done
TMP=$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")   # same filesystem as $OUT: mv is atomic
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP   # run the EXIT trap on these too
echo $$ >"$TMP/.pid"
log "building $HASH in $TMP"

# Kernel.
log "downloading $KERNEL_PKG=$KERNEL_VER"
mkdir "$TMP/dl" "$TMP/kernel"
# Sandbox user root: the temp dir under $HOME is not readable by _apt (only a warning).
(cd "$TMP/dl" && apt-get -o APT::Sandbox::User=root download "$KERNEL_PKG=$KERNEL_VER") >&2 || die "apt-get download $KERNEL_PKG=$KERNEL_VER failed (stale apt lists? try apt-get update)"
dpkg-deb -x "$TMP"/dl/*.deb "$TMP/kernel"
VMLINUZ=$(ls "$TMP"/kernel/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$VMLINUZ" ] || die "no boot/vmlinuz-* in $KERNEL_PKG"
KREL=${VMLINUZ##*/vmlinuz-}
MODDIR=$TMP/kernel/lib/modules/$KREL
[ -d "$MODDIR" ] || die "no lib/modules/$KREL in $KERNEL_PKG"

# Initramfs tree.
ROOT=$TMP/root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,run,lib/modules/ferry}
cp /bin/busybox "$ROOT/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$ROOT/bin/$applet"
done
install -m 0755 "$GUEST_DIR/init" "$ROOT/init"
install -m 0755 "$GUEST_DIR/udhcpc.script" "$ROOT/bin/ferry-dhcp"
# The kernel's built-in initramfs already has /dev/console; this is belt and braces.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

log "compiling ferry-workload"
gcc -static -O2 -Wall -Wextra -o "$ROOT/bin/ferry-workload" "$GUEST_DIR/workload/ferry-workload.c" >&2
strip "$ROOT/bin/ferry-workload" 2>/dev/null || true

# Modules: flat directory plus the insmod order; compressed modules are unpacked here because
# busybox insmod only loads plain .ko files.
MOD_REPORT=()
: >"$ROOT/lib/modules/ferry/order"
for m in "${MODULES[@]}"; do
    ko=$(find "$MODDIR/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \) | head -n1)
    if [ -z "$ko" ]; then
        if grep -q "/$m\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
            MOD_REPORT+=("$m=builtin")
        else
            log "warning: module $m not found in $KERNEL_PKG, skipping"
            MOD_REPORT+=("$m=absent")
        fi
        continue
    fi
    dst=$ROOT/lib/modules/ferry/$m.ko
    case "$ko" in
        *.xz) need xz xz-utils; xz -dc "$ko" >"$dst" ;;
        *.zst) need zstd zstd; zstd -qdc "$ko" >"$dst" ;;
        *) cp "$ko" "$dst" ;;
    esac
    echo "$m" >>"$ROOT/lib/modules/ferry/order"
    MOD_REPORT+=("$m=module")
done

log "packing initramfs"
mkdir "$TMP/out"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$TMP/out/initrd.img"
cp "$VMLINUZ" "$TMP/out/vmlinuz"

{
    echo "# Ferry test guest, built $(date -u +%Y-%m-%dT%H:%M:%SZ) by guest/build-guest.sh"
    echo "hash $HASH"
    echo "$INPUTS"
    echo "kernel-release $KREL"
    echo "modules ${MOD_REPORT[*]}"
    echo "ferry-workload sha256 $(sha256sum <"$ROOT/bin/ferry-workload" | cut -d' ' -f1)"
    echo "vmlinuz sha256 $(sha256sum <"$TMP/out/vmlinuz" | cut -d' ' -f1)"
    echo "initrd.img sha256 $(sha256sum <"$TMP/out/initrd.img" | cut -d' ' -f1)"
} >"$TMP/out/manifest.txt"
chmod 0755 "$TMP/out"
chmod 0644 "$TMP/out"/*

# Atomic publish. If a concurrent build of the same inputs won the race, use its result.
if ! mv -T "$TMP/out" "$OUT" 2>/dev/null; then
    [ -f "$OUT/manifest.txt" ] || die "cannot move the build to $OUT"
    log "another build published $OUT first"
fi
log "built $OUT in $(( $(date +%s) - START )) s"
echo "$OUT"
