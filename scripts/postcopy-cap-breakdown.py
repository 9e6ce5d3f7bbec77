#!/usr/bin/env python3
"""Where a post-copy switch's downtime goes, from the source's trace of
postcopy-cap-experiment.py --trace (one directory per run): ms per step of 7.2's postcopy_start."""
import re, sys

STEPS = [("postcopy_start ", "start"), ("runstate_set current_run_state 9", "BQL taken"),
         ("vm_stop_flush_all", "vCPUs stopped"), ("migration_bitmap_sync_start", "complete_precopy"),
         ("migration_bitmap_sync_end", "final dirty sync"), ("ram_postcopy_send_discard_bitmap", "discard bitmap sent"),
         ("savevm_send_postcopy_listen", "ping 2 flushed"), ("savevm_send_ping 0x3", "device state (package)"),
         ("savevm_send_ping 0x4", "package flushed")]
for d in sys.argv[1:]:
    t = {}
    for line in open(d + "/src.trace", errors="replace"):
        m = re.match(r"\d+@(\d+\.\d+):(.*)", line)
        if not m:
            continue
        for key, name in STEPS:
            if m.group(2).startswith(key) and name not in t and ("start" in t or name == "start"):
                t[name] = float(m.group(1))
    prev, parts = None, []
    for _, name in STEPS:
        if name in t:
            if prev is not None:
                parts.append(f"{name} {1000 * (t[name] - t[prev]):.0f}")
            prev = name
    print(d, "|", ", ".join(parts))
