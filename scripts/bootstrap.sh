#!/usr/bin/env bash
# Checks that this machine has what Ferry's demo and tests need. As root on Debian/Ubuntu it
# installs what is missing with apt and says so; otherwise it names the packages and fails.
# Prints the JDK home it chose as its last line (the launcher reads it).
set -euo pipefail

say() { printf 'ferry bootstrap: %s\n' "$*" >&2; }

java_major() { # prints the feature version of a java binary, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n1
}

find_jdk() { # a JDK >= 21 with javac: JAVA_HOME first, then the newest under /usr/lib/jvm
  local candidates=() home best="" best_v=0 v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for home in /usr/lib/jvm/*; do [ -d "$home" ] && candidates+=("$home"); done
  for home in "${candidates[@]}"; do
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || continue
    v=$(java_major "$home/bin/java"); [ -n "$v" ] || continue
    if [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best="$home"; best_v=$v; fi
    # JAVA_HOME wins when it qualifies, whatever else is installed
    if [ "$home" = "${JAVA_HOME:-}" ] && [ "$v" -ge 21 ]; then echo "$home"; return 0; fi
  done
  [ -n "$best" ] && echo "$best"
}

is_static() { # busybox must be static: it runs inside the guest's initramfs
  [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1
}

missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v qemu-io >/dev/null || missing+=(qemu-utils)
is_static /bin/busybox || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v xz >/dev/null || missing+=(xz-utils)
command -v zstd >/dev/null || missing+=(zstd)
command -v nbdinfo >/dev/null || missing+=(libnbd-bin)
command -v setsid >/dev/null || missing+=(util-linux)
# the post-copy link test builds a second host in a network namespace (ip netns, veth)
command -v ip >/dev/null || missing+=(iproute2)
# the controller's PostgreSQL store is tested against a private server the test starts itself
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)

jdk=$(find_jdk || true)
jdk_pkg=""
if [ -z "$jdk" ]; then
  jdk_pkg=openjdk-21-jdk-headless
  if command -v apt-cache >/dev/null; then
    for p in openjdk-25-jdk-headless openjdk-21-jdk-headless; do
      if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then jdk_pkg=$p; break; fi
    done
  fi
  missing+=("$jdk_pkg")
fi

# de-duplicate, keep order
readarray -t missing < <(printf '%s\n' "${missing[@]}" | awk 'NF && !seen[$0]++')

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    [ -n "$jdk_pkg" ] && jdk=$(find_jdk || true)
  else
    say "missing packages: ${missing[*]}"
    say "install them with: sudo apt-get install ${missing[*]}"
    [ -n "$jdk_pkg" ] && say "(or point JAVA_HOME at any JDK >= 21)"
    exit 1
  fi
fi

if [ -z "$jdk" ]; then
  say "no JDK >= 21 found (JAVA_HOME, /usr/lib/jvm) even after installing; set JAVA_HOME"
  exit 1
fi
echo "$jdk"
