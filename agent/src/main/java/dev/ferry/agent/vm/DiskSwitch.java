package dev.ferry.agent.vm;

import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * A VM's record with one disk pointed at another image (after a storage move): both the spec
 * QEMU is started from and the definition as the controller sent it name the new image, so the
 * next start boots from it and the definition reported back matches. With {@code liveNodes} the
 * running QEMU already uses that image through those block nodes; without, it uses the nodes of
 * its command line.
 */
final class DiskSwitch {

  private DiskSwitch() {}

  static VmRecord apply(VmRecord record, String id, Path image, DiskFormat format, BlockNodes liveNodes) {
    var disks = new ArrayList<DiskSpec>();
    for (DiskSpec d : record.spec().disks()) {
      disks.add(d.id().equals(id) ? new DiskSpec(id, image.toString(), format) : d);
    }
    AgentVmDefinition def = record.definition();
    List<AgentDisk> defDisks = def.disks() == null ? List.of() : def.disks();
    var newDefDisks = new ArrayList<AgentDisk>();
    for (int i = 0; i < defDisks.size(); i++) {
      AgentDisk d = defDisks.get(i);
      String did = d.id() == null ? "disk" + i : d.id();
      newDefDisks.add(did.equals(id) ? new AgentDisk(did, image.toString(), format.driver()) : d);
    }
    var newDef = def.withDisks(newDefDisks);
    var nodes = new HashMap<>(record.liveNodes());
    if (liveNodes != null) nodes.put(id, liveNodes);
    else nodes.remove(id);
    return record.withDisk(newDef, record.spec().withDisks(disks), nodes);
  }
}
