package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.OutgoingRequest;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Checks live-migration requests at the edge, naming the field that is wrong. */
final class Requests {

  static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  static final Pattern QAPI_NAME = Pattern.compile("[a-z][a-z0-9-]{0,63}");
  /**
   * Only TCP: the target agent answers with it, and anything else is a way into the source host
   * ({@code exec:} runs a command as QEMU, {@code unix:} and {@code fd:} reach local sockets and
   * descriptors), whoever forged the answer.
   */
  static final Pattern URI = Pattern.compile("tcp:[A-Za-z0-9.:\\[\\]-]+:\\d{1,5}");
  static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:\\[\\]-]{1,255}");

  private Requests() {}

  static void validate(OutgoingRequest r) {
    id(r.migrationId());
    migrationUri(r.migrationUri(), "as the target answered");
    names("capabilities", r.capabilities());
    names("parameters", r.parameters());
    if (r.nbd() != null) {
      if (r.nbd().host() == null || !HOST.matcher(r.nbd().host()).matches()) {
        throw AgentException.badInput("nbd.host", r.nbd().host(), "a host name or address");
      }
      if (r.nbd().port() < 1 || r.nbd().port() > 65535) {
        throw AgentException.badInput("nbd.port", Integer.toString(r.nbd().port()), "1 to 65535");
      }
      if (r.nbd().exports() == null || r.nbd().exports().isEmpty()) {
        throw AgentException.badInput("nbd.exports", "{}", "disk id → export name for every copied disk");
      }
      r.nbd().exports().forEach((disk, export) -> {
        if (export == null || !ID.matcher(export).matches()) {
          throw AgentException.badInput("nbd.exports." + disk, export, "an export name the target answered");
        }
      });
    }
  }

  /** @param source where a valid URI comes from, for the message */
  static void migrationUri(String uri, String source) {
    if (uri == null || !URI.matcher(uri).matches()) {
      throw AgentException.badInput("migration_uri", uri, "tcp:HOST:PORT only (not unix:, exec:, fd: or rdma:), " + source);
    }
  }

  static void validate(IncomingRequest r) {
    id(r.migrationId());
    if (r.definition() == null) throw AgentException.badInput("definition", null, "the vm's definition as on the source");
    names("capabilities", r.capabilities());
    names("parameters", r.parameters());
    if (r.sourceHost() != null && !dev.ferry.api.Names.valid(r.sourceHost())) {
      throw AgentException.badInput("source_host", r.sourceHost(), dev.ferry.api.Names.RULE);
    }
    if (r.copyStorage() != null) {
      Set<String> ids = diskIds(r.definition());
      var seen = new HashSet<String>();
      for (int i = 0; i < r.copyStorage().size(); i++) {
        CopyStorageDisk d = r.copyStorage().get(i);
        String f = "copy_storage[" + i + "]";
        // the id names the image file created here: it must be one of the definition's, once
        String wanted = "a disk id of the definition (" + String.join(", ", ids) + "), each at most once";
        if (d == null || !DiskSpec.validId(d.disk()) || !ids.contains(d.disk()) || !seen.add(d.disk())) {
          throw AgentException.badInput(f + ".disk", d == null ? null : d.disk(), wanted);
        }
        if (d.pool() == null) throw AgentException.badInput(f + ".pool", null, "a pool of this host");
        if (d.format() != null && !d.format().equals("qcow2") && !d.format().equals("raw")) {
          throw AgentException.badInput(f + ".format", d.format(), "qcow2 or raw");
        }
        if (d.virtualSize() <= 0 || d.virtualSize() % 512 != 0) {
          throw AgentException.badInput(f + ".virtual_size", Long.toString(d.virtualSize()), "a positive multiple of 512 bytes");
        }
      }
    }
  }

  /** The disk ids as the definition names them ({@code diskN} for a disk without one, as on define). */
  private static Set<String> diskIds(AgentVmDefinition def) {
    var ids = new LinkedHashSet<String>();
    List<AgentDisk> disks = def.disks() == null ? List.of() : def.disks();
    for (int i = 0; i < disks.size(); i++) {
      AgentDisk d = disks.get(i);
      ids.add(d == null || d.id() == null ? "disk" + i : d.id());
    }
    return ids;
  }

  private static void id(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw AgentException.badInput("migration_id", id, "1-64 letters, digits, '.', '_' or '-'");
    }
  }

  private static void names(String field, Map<String, ?> map) {
    if (map == null) return;
    for (var e : map.entrySet()) {
      if (!QAPI_NAME.matcher(e.getKey()).matches()) {
        throw AgentException.badInput(field, e.getKey(), "qemu names such as multifd-channels");
      }
      if (e.getValue() == null) throw AgentException.badInput(field + "." + e.getKey(), null, "a value");
      // the stream's TLS is the agent's to set: a request must not be able to turn it off or re-point it
      if (e.getKey().startsWith("tls-")) {
        throw AgentException.badInput(field, e.getKey(), "no tls-* parameter: the agent sets them from its --tls");
      }
    }
  }
}
