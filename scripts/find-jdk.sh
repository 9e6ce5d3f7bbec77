#!/usr/bin/env bash
# Prints the home of a JDK >= 21 (JAVA_HOME first, then the newest under /usr/lib/jvm) and exits 0,
# or exits 1 printing nothing. Checks no package and installs nothing: every ./ferry command uses it.
#   find-jdk.sh          a java >= 21 is enough (running the jar)
#   find-jdk.sh javac    it must also have javac (building the sources)
set -euo pipefail

need_javac=${1:-}

java_major() { # the feature version of a java binary, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n1
}

candidates=()
[ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
for home in /usr/lib/jvm/*; do [ -d "$home" ] && candidates+=("$home"); done
best="" best_v=0
for home in "${candidates[@]}"; do
  [ -x "$home/bin/java" ] || continue
  [ -z "$need_javac" ] || [ -x "$home/bin/javac" ] || continue
  v=$(java_major "$home/bin/java"); [ -n "$v" ] || continue
  # JAVA_HOME wins when it qualifies, whatever else is installed
  if [ "$home" = "${JAVA_HOME:-}" ] && [ "$v" -ge 21 ]; then echo "$home"; exit 0; fi
  if [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best="$home"; best_v=$v; fi
done
[ -n "$best" ] || exit 1
echo "$best"
