#!/usr/bin/env bash
# Prepares this machine for `./ferry demo`, `./ferry bench`, `./ferry test` or `./ferry test-ft` (and only those:
# every other command installs nothing). Packages come in four groups:
#   runtime  what a Ferry host needs to run VMs at all (the .deb declares the same)
#   guest    what building the self-checking test guest needs (demo, bench, test)
#   network  what the local cluster's network needs (demo, test): bridge and namespace (iproute2),
#            DHCP (dnsmasq-base; its binary is all Ferry runs, no system service)
#   test     what only the test suite needs (NBD peer, PostgreSQL)
#   bench    what only the benchmarks need (nbdcopy, the copy bench's second baseline)
#   qemu-ft  what building Ferry's own QEMU needs (scripts/build-qemu.sh, the fault-tolerance
#            binary of issue 12): a deb-src entry for Debian's qemu source package and its ~24
#            build dependencies (test-ft only: the build costs minutes, so `./ferry test` and the
#            demo do not make it until FT needs it there)
# It always says what it checks. As root on Debian it installs what is missing with apt and says
# which packages; otherwise it names them and fails.
# Usage: bootstrap.sh demo|bench|test|test-ft. Prints the JDK home it chose as its last line.
set -euo pipefail

mode=${1:-}
case "$mode" in demo|bench|test|test-ft) ;; *) echo "usage: bootstrap.sh demo|bench|test|test-ft" >&2; exit 2 ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

say() { printf 'ferry bootstrap: %s\n' "$*" >&2; }

is_static() { # busybox must be static: it runs inside the guest's initramfs
  [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1
}

runtime=(qemu-system-x86 qemu-utils util-linux "JDK >= 21")
guest=(busybox-static cpio gcc libc6-dev xz-utils zstd)
network=(iproute2 dnsmasq-base)
test_only=(libnbd-bin postgresql)
bench_only=(libnbd-bin)
# colo.md: these were enough for x86_64-softmmu with the configure flags of build-qemu.sh (not
# the ~256 packages of `apt-get build-dep qemu`); dpkg-dev unpacks the source package;
# libseccomp-dev: the agent runs every QEMU with -sandbox, the FT build included
qemu_ft=(build-essential dpkg-dev pkg-config meson ninja-build python3-venv flex bison
         libglib2.0-dev libpixman-1-dev libfdt-dev libslirp-dev libzstd-dev libaio-dev
         liburing-dev zlib1g-dev libseccomp-dev)
builds_qemu=false
[ "$mode" = test-ft ] && builds_qemu=true
wanted="runtime (${runtime[*]}), guest build (${guest[*]})"
[ "$mode" != bench ] && wanted="$wanted, network (${network[*]})"
[ "$mode" = bench ] && wanted="$wanted, bench (${bench_only[*]})"
case "$mode" in test|test-ft) wanted="$wanted, tests (${test_only[*]})" ;; esac
$builds_qemu && wanted="$wanted, QEMU build (deb-src entry, ${qemu_ft[*]})"
say "./ferry $mode checks the packages it needs: $wanted"

missing=()
# runtime
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
command -v qemu-img >/dev/null || missing+=(qemu-utils)
command -v setsid >/dev/null || missing+=(util-linux)
# guest build
is_static /bin/busybox || missing+=(busybox-static)
command -v cpio >/dev/null || missing+=(cpio)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v xz >/dev/null || missing+=(xz-utils)
command -v zstd >/dev/null || missing+=(zstd)
# network: cluster up makes network 'default' (bridge, namespace, DHCP) when these are present
if [ "$mode" != bench ]; then
  command -v ip >/dev/null || missing+=(iproute2)
  [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
fi
# bench: ferry bench copy measures Ferry's copier next to nbdcopy (and qemu-img convert)
if [ "$mode" = bench ]; then
  command -v nbdcopy >/dev/null || missing+=(libnbd-bin)
  command -v qemu-io >/dev/null || missing+=(qemu-utils)
fi
if [ "$mode" = test ] || [ "$mode" = test-ft ]; then
  command -v qemu-io >/dev/null || missing+=(qemu-utils)
  command -v nbdinfo >/dev/null || missing+=(libnbd-bin)
  # the fault tests build hosts in network namespaces (ip netns, veth)
  command -v ip >/dev/null || missing+=(iproute2)
  # the controller's PostgreSQL store is tested against a private server the test starts itself
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  # the TLS tests record a migration at the switch and probe the agents' HTTPS
  command -v tcpdump >/dev/null || missing+=(tcpdump)
  command -v curl >/dev/null || missing+=(curl)
fi

# Ferry's QEMU is built from Debian's source package: apt needs a deb-src entry for the suites it
# installs binaries from (a security update of qemu comes from bookworm-security)
DEB_SRC=/etc/apt/sources.list.d/ferry-deb-src.sources
BINARY_SOURCES=/etc/apt/sources.list.d/debian.sources
need_deb_src=false
if $builds_qemu; then
  for p in "${qemu_ft[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  if [ ! -f "$DEB_SRC" ] && ! grep -rqsE '^(deb-src |Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    need_deb_src=true
  fi
fi

# demo, bench and test build the sources: a JDK with javac
jdk=$(bash "$HERE/find-jdk.sh" javac || true)
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

if $need_deb_src; then
  if [ "$(id -u)" -eq 0 ] && [ -f "$BINARY_SOURCES" ]; then
    say "adding $DEB_SRC (deb-src for the suites of $BINARY_SOURCES, for Ferry's QEMU build)"
    # the same stanzas (URIs, suites, components, keyring) as the binary sources, as deb-src
    sed 's/^Types:.*/Types: deb-src/' "$BINARY_SOURCES" >"$DEB_SRC"
    need_update=true  # apt must read the new entry
  else
    say "missing: a deb-src entry for bookworm, bookworm-updates and bookworm-security (Ferry's QEMU build runs apt-get source qemu)"
    say "add one as root, e.g.: sed 's/^Types:.*/Types: deb-src/' $BINARY_SOURCES >$DEB_SRC && apt-get update"
    [ "${#missing[@]}" -gt 0 ] && say "and install: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi

if [ "${#missing[@]}" -gt 0 ] || ${need_update:-false}; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    [ "${#missing[@]}" -gt 0 ] && say "installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    [ "${#missing[@]}" -gt 0 ] && \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
    [ -n "$jdk_pkg" ] && jdk=$(bash "$HERE/find-jdk.sh" javac || true)
  else
    say "missing packages: ${missing[*]}"
    say "install them with: sudo apt-get install ${missing[*]}"
    [ -n "$jdk_pkg" ] && say "(or point JAVA_HOME at any JDK >= 21)"
    exit 1
  fi
else
  say "nothing to install"
fi

if [ -z "$jdk" ]; then
  say "no JDK >= 21 found (JAVA_HOME, /usr/lib/jvm) even after installing; set JAVA_HOME"
  exit 1
fi

# A root agent runs QEMU as the unprivileged ferry-qemu (issue 10); the demo and the tests run
# agents as root, so the user must exist. Post-copy needs userfaultfd, which the kernel gives an
# unprivileged QEMU only with vm.unprivileged_userfaultfd=1 (the agent refuses post-copy otherwise).
# Real hosts get both from the ferry package; this is for the demo and the tests only.
if [ "$(id -u)" -eq 0 ]; then
  if ! id ferry-qemu >/dev/null 2>&1; then
    say "creating system user ferry-qemu (QEMU runs as it under a root agent)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ferry-qemu >&2
  fi
  if getent group kvm >/dev/null && ! id -nG ferry-qemu | grep -qw kvm; then
    say "adding ferry-qemu to group kvm (for /dev/kvm)"
    usermod -a -G kvm ferry-qemu >&2
  fi
  # QEMU as ferry-qemu attaches to the tap the agent made for it through /dev/net/tun; Debian's
  # udev rule makes it 0666 (opening it grants nothing: a tap is attached only by its owner)
  if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
    say "making /dev/net/tun mode 0666 as Debian's udev does (QEMU attaches to its taps as ferry-qemu)"
    chmod 0666 /dev/net/tun >&2
  fi
  if [ "$(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null || echo 1)" != 1 ]; then
    say "setting vm.unprivileged_userfaultfd=1 until reboot (post-copy under the unprivileged QEMU user)"
    sysctl -q -w vm.unprivileged_userfaultfd=1 >&2
  fi
elif ! id ferry-qemu >/dev/null 2>&1; then
  say "note: no user ferry-qemu; agents not run as root run QEMU as themselves"
fi
echo "$jdk"
