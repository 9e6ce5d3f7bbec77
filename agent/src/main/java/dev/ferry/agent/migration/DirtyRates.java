package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.qmp.migration.QueryDirtyRate.DirtyRateInfo;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The guest's dirty rate, for the controller's prediction of a live migration: QEMU's
 * {@code calc-dirty-rate} in page-sampling mode, which reads a sample of pages and leaves the
 * dirty log to a migration, so a measurement may run beside one. Nothing about the VM changes.
 */
final class DirtyRates {

  /** QEMU 7.2 measures whole seconds, 1 to 60. */
  static final long MAX_CALC_TIME_S = 60;

  /** A measurement this agent started: QEMU's start-time (its own clock) and when, by ours. */
  private record Started(long qemuStartTime, long atNanos) {}

  /** by vm name; QEMU's start-time tells whether the measurement QEMU reports is still ours */
  private final Map<String, Started> started = new ConcurrentHashMap<>();

  DirtyRate measure(VmHandle vm, long calcTimeS) {
    if (calcTimeS < 1 || calcTimeS > MAX_CALC_TIME_S) {
      throw new AgentException(Kind.INVALID, "calc_time_s " + calcTimeS + " is outside 1-" + MAX_CALC_TIME_S
          + " (whole seconds, as QEMU 7.2 measures)");
    }
    var migration = qmp(vm).migration();
    DirtyRateInfo before = migration.dirtyRate();
    DirtyRateInfo now = migration.measureDirtyRate(calcTimeS);
    if (!DirtyRateInfo.MEASURING.equals(before.status())) started.put(vm.name(), new Started(now.startTime(), System.nanoTime()));
    return view(vm, now);
  }

  DirtyRate last(VmHandle vm) {
    return view(vm, qmp(vm).migration().dirtyRate());
  }

  private static Qmp qmp(VmHandle vm) {
    QemuProcess p = vm.process().orElseThrow(() -> new AgentException(Kind.CONFLICT, "vm " + vm.name()
        + " has no qemu: only a running vm's dirty rate can be measured"));
    return new Qmp(p.qmp());
  }

  private DirtyRate view(VmHandle vm, DirtyRateInfo info) {
    Started s = started.get(vm.name());
    Long age = s != null && s.qemuStartTime() == info.startTime()
        ? (System.nanoTime() - s.atNanos()) / 1_000_000 : null;
    Long resident = vm.process().map(p -> GuestResident.of(p.pid(), vm.status().memoryGivenBytes()))
        .filter(java.util.OptionalLong::isPresent).map(java.util.OptionalLong::getAsLong).orElse(null);
    return new DirtyRate(info.status(), info.dirtyRate().isPresent() ? info.dirtyRate().getAsLong() : null,
        info.calcTime(), age, resident);
  }
}
