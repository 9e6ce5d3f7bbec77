package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/** {@code query-kvm}: whether KVM is available and in use. */
public record QueryKvm() implements QmpCommand<QueryKvm.KvmInfo> {

  @Override
  public String name() {
    return "query-kvm";
  }

  @Override
  public KvmInfo parse(JsonNode ret) {
    return new KvmInfo(Members.bool(ret, "enabled"), Members.bool(ret, "present"));
  }

  /**
   * QAPI {@code KvmInfo}.
   *
   * @param enabled this QEMU runs the guest with KVM
   * @param present the host offers KVM; on these machines {@code /dev/kvm} can be present while
   *     KVM guests still fail, so a true value is no promise that KVM works
   */
  public record KvmInfo(boolean enabled, boolean present) {}
}
