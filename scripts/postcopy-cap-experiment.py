#!/usr/bin/env python3
"""Issue 14: why post-copy under a bandwidth cap pauses the guest ~1 s (docs/bench/live.md).

Two QEMUs on loopback over QMP only (no Ferry), the test guest (guest/build-guest.sh) with a
96 MiB unthrottled memory writer (ferry.mem=96:0, as LiveMigrationFaultsIT's "hog"); post-copy
is started once the first pass is done (MIGRATION_PASS 2). Per run: QEMU's downtime
(query-migrate), the source's STOP event to the target's RESUME event (QMP event timestamps,
one host clock), and the target's guest checked for memory errors. The target is `cont`ed
right after migrate-incoming (7.2: autostart, so it runs as soon as the package is loaded).

Usage (hold the shared QEMU lock):
  export FERRY_GUEST_DIR=$(bash guest/build-guest.sh | tail -n1)
  flock /tmp/ferry-qemu.lock python3 scripts/postcopy-cap-experiment.py --runs 3 \
      --variants uncapped,capped,capped-pc0 [--cap 16] [--trace]
Variants: uncapped (max-bandwidth 10 GiB/s, max-postcopy-bandwidth 0), capped (max-bandwidth =
max-postcopy-bandwidth = cap: Ferry before issue 14), capped-pc0 (max-bandwidth = cap,
max-postcopy-bandwidth 0), capped-preempt (capped + x-postcopy-preempt).
"""
import argparse, json, os, socket, statistics, subprocess, sys, tempfile, threading, time

MIB = 1 << 20
MEM = "262136k"  # not a multiple of 256 KiB: qemu-notes.md's TCG dirty-page bug


class Qmp:
    def __init__(self, path):
        for _ in range(200):
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("no QMP at " + path)
        self.f = self.s.makefile("r")
        self.events, self.replies = [], []
        self.cv = threading.Condition()
        json.loads(self.f.readline())
        threading.Thread(target=self._read, daemon=True).start()
        self.cmd("qmp_capabilities")

    def _read(self):
        for line in self.f:
            m = json.loads(line)
            with self.cv:
                (self.events if "event" in m else self.replies).append(m)
                self.cv.notify_all()

    def cmd(self, name, **args):
        with self.cv:
            n = len(self.replies)
            self.s.sendall((json.dumps({"execute": name, "arguments": args}) + "\n").encode())
            self.cv.wait_for(lambda: len(self.replies) > n, 30)
            r = self.replies[n]
        if "error" in r:
            raise RuntimeError(f"{name} {args}: {r['error']}")
        return r["return"]

    def wait_event(self, pred, timeout):
        with self.cv:
            ok = self.cv.wait_for(lambda: any(pred(e) for e in self.events), timeout)
            if not ok:
                raise TimeoutError("event not seen")
            return next(e for e in self.events if pred(e))

    @staticmethod
    def ts(e):
        return e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6


def qemu(guest, d, name, extra, trace, mem="262136k"):
    args = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc-q35-7.2", "-cpu", "qemu64",
            "-m", mem, "-nodefaults", "-display", "none", "-serial", f"file:{d}/{name}.console",
            "-kernel", f"{guest}/vmlinuz", "-initrd", f"{guest}/initrd.img",
            "-append", "console=ttyS0 ferry.mem=96:0", "-qmp", f"unix:{d}/{name}.sock,server=on,wait=off"]
    if trace:
        for ev in ("postcopy_start*", "loadvm_postcopy_handle_run*", "loadvm_handle_cmd_packaged*",
                   "savevm_command_send", "savevm_send_*", "ram_postcopy_send_discard_bitmap",
                   "postcopy_discard_send_finish", "migration_bitmap_sync_*", "vm_state_notify", "runstate_set",
                   "savevm_state_complete_precopy", "loadvm_process_command*", "loadvm_postcopy_ram_handle_discard*",
                   "vm_stop_flush_all", "migrate_set_state", "qemu_file_fclose"):
            args += ["-trace", "enable=" + ev]
        args += ["-D", f"{d}/{name}.trace", "-msg", "timestamp=on"]
    return subprocess.Popen(args + extra, stdout=subprocess.DEVNULL, stderr=open(f"{d}/{name}.err", "w"))


def wait_console(path, text, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{text!r} not in {path}")


def run(guest, variant, cap, port, trace):
    d = tempfile.mkdtemp(prefix=f"pcdown-{variant}-")
    procs = []
    try:
        s_proc = qemu(guest, d, "src", [], trace, MEM)
        procs.append(s_proc)
        wait_console(f"{d}/src.console", "FERRY MEM gen=2", 120)
        d_proc = qemu(guest, d, "dst", ["-incoming", "defer", "-S"], trace, MEM)
        procs.append(d_proc)
        S, D = Qmp(f"{d}/src.sock"), Qmp(f"{d}/dst.sock")
        caps = [{"capability": "events", "state": True}, {"capability": "postcopy-ram", "state": True}]
        if variant == "capped-preempt":
            caps.append({"capability": "postcopy-preempt", "state": True})
        D.cmd("migrate-set-capabilities", capabilities=caps)
        D.cmd("migrate-incoming", uri=f"tcp:127.0.0.1:{port}")
        D.cmd("cont")  # INMIGRATE: only sets autostart, the RUN command of the package starts it
        S.cmd("migrate-set-capabilities", capabilities=caps)
        bw = (10 << 30) if variant == "uncapped" else cap * MIB
        pcbw = cap * MIB if variant in ("capped", "capped-preempt") else 0
        S.cmd("migrate-set-parameters", **{"max-bandwidth": bw, "max-postcopy-bandwidth": pcbw,
                                            "downtime-limit": 50})
        t0 = time.time()
        S.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
        S.wait_event(lambda e: e["event"] == "MIGRATION_PASS" and e["data"]["pass"] >= 2, 300)
        t_sw = time.time()
        S.cmd("migrate-start-postcopy")
        S.wait_event(lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in ("completed", "failed"), 600)
        info = S.cmd("query-migrate")
        stop = S.wait_event(lambda e: e["event"] == "STOP", 5)
        resume = D.wait_event(lambda e: e["event"] == "RESUME", 5)
        # the target's guest must go on sweeping its working set without errors
        wait_console(f"{d}/dst.console", "FERRY MEM gen=", 60)
        time.sleep(2)
        con = open(f"{d}/dst.console", errors="replace").read()
        errors = "MEM-ERROR" in con or "Kernel panic" in con
        r = {"variant": variant, "status": info["status"], "downtime_ms": info.get("downtime"),
             "stop_to_resume_ms": round((Qmp.ts(resume) - Qmp.ts(stop)) * 1000),
             "switch_cmd_to_stop_ms": round((Qmp.ts(stop) - t_sw) * 1000),
             "total_ms": info.get("total-time"), "postcopy_requests": info.get("ram", {}).get("postcopy-requests"),
             "mbytes": round(info.get("ram", {}).get("transferred", 0) / MIB, 1),
             "guest_errors": errors, "loadavg": open("/proc/loadavg").read().split()[0], "dir": d}
        return r
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main():
    global MEM
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--variants", default="uncapped,capped,capped-pc0")
    ap.add_argument("--cap", type=int, default=16, help="MiB/s")
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--mem", default="262136k", help="guest RAM; a multiple of 256 KiB takes 7.2's word-at-a-time "
                    "dirty-bitmap sync (and its TCG page-loss bug): only to locate the cost")
    a = ap.parse_args()
    MEM = a.mem
    guest = os.environ["FERRY_GUEST_DIR"]
    results = []
    port = 47000 + os.getpid() % 1000
    # interleaved, so that a change in the machine's load hits every variant alike
    for i in range(a.runs):
        for v in a.variants.split(","):
            r = run(guest, v, a.cap, port + len(results), a.trace)
            print(json.dumps(r), flush=True)
            results.append(r)
    print("variant          downtime ms median [min..max]   STOP->RESUME ms median [min..max]   load")
    for v in a.variants.split(","):
        rs = [r for r in results if r["variant"] == v and r["status"] == "completed"]
        if not rs:
            continue
        dt = [r["downtime_ms"] for r in rs]
        sr = [r["stop_to_resume_ms"] for r in rs]
        print(f"{v:16} {statistics.median(dt):6.0f} [{min(dt)}..{max(dt)}]   "
              f"{statistics.median(sr):6.0f} [{min(sr)}..{max(sr)}]   {[r['loadavg'] for r in rs]}")


if __name__ == "__main__":
    main()
