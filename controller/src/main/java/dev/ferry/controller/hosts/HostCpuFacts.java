package dev.ferry.controller.hosts;

import java.util.List;

/**
 * A host's CPU as its agent reports it: the accelerator probe's finding, the CPU flags
 * ({@code /proc/cpuinfo}) and the named QEMU CPU models it runs without dropping a feature. Lists
 * are empty when the agent did not say (an agent from before these facts existed).
 */
public record HostCpuFacts(String acceleratorProbe, List<String> flags, List<String> models) {

  public HostCpuFacts {
    flags = flags == null ? List.of() : List.copyOf(flags);
    models = models == null ? List.of() : List.copyOf(models);
  }
}
