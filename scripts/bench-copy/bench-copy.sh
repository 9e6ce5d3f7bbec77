#!/bin/bash
# Ferry copier vs qemu-img convert vs nbdcopy, all reading the same qemu-nbd export (read-only, TCP loopback).
set -e
# Run from the repository after ./mvnw -o -pl nbd -am package -DskipTests; hold /tmp/ferry-qemu.lock.
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(pwd)
D=${BENCH_DIR:-/tmp/ferry-bench-copy}; mkdir -p $D/classes
/usr/lib/jvm/temurin-25-jdk-amd64/bin/javac -cp "$REPO/nbd/target/classes" -d "$D/classes" "$HERE/CopyBench.java"
cd $D
CP=$REPO/nbd/target/classes:$HOME/.m2/repository/org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
run() { # name image
  local img=$1 size; size=$(qemu-img info --output=json $img | python3 -c 'import json,sys;print(json.load(sys.stdin)["virtual-size"])')
  qemu-nbd --read-only --persistent --shared=8 --format=qcow2 --bind=127.0.0.1 --port=10899 --export-name=disk --cache=none --aio=native $img &
  local pid=$!; sleep 1
  for tool in ferry qemu-img nbdcopy; do
    rm -f out.raw; sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    t0=$(date +%s%N)
    case $tool in
      ferry) truncate -s $size out.raw; $J -Dslf4j.internal.verbosity=ERROR -cp $D/classes:$CP CopyBench 127.0.0.1 10899 disk out.raw >/dev/null ;;
      qemu-img) qemu-img convert -n -O raw nbd://127.0.0.1:10899/disk out.raw 2>/dev/null || qemu-img convert -O raw nbd://127.0.0.1:10899/disk out.raw ;;
      nbdcopy) truncate -s $size out.raw; nbdcopy nbd://127.0.0.1:10899/disk out.raw ;;
    esac
    t1=$(date +%s%N); ms=$(( (t1-t0)/1000000 ))
    qemu-img compare -q -f qcow2 -F raw $img out.raw && ok=identical || ok=DIFFERS
    printf "%-8s %-9s %6d ms  %7.1f MiB/s of data  alloc %s  %s\n" $(basename $img .qcow2) $tool $ms \
      $(python3 -c "print($2/1048576/($ms/1000))") "$(du -h out.raw | cut -f1)" $ok
  done
  kill $pid; wait $pid 2>/dev/null || true
}
rm -f full.qcow2 sparse.qcow2
qemu-img create -q -f qcow2 full.qcow2 1G
qemu-io -f qcow2 -c "write -P 0x5a 0 1G" full.qcow2 >/dev/null
qemu-img create -q -f qcow2 sparse.qcow2 2G
qemu-io -f qcow2 -c "write -P 0x33 0 32M" -c "write -P 0x44 1G 32M" sparse.qcow2 >/dev/null
run full.qcow2 $((1024*1048576))
run sparse.qcow2 $((64*1048576))
rm -f out.raw
