package dev.ferry.agent.warm;

import dev.ferry.api.agent.ColdExport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a target's TLS relay for one warm pass: a {@code qemu-storage-daemon} whose
 * NBD client dials each of the source's exports over TLS (the host's certificate, the source
 * address as {@code tls-hostname}) and re-exports it read-only on a private UNIX socket under the
 * same name; for a pass with a bitmap each disk a second time, with
 * {@code x-dirty-bitmap=qemu:dirty-bitmap:NAME}, as {@code EXPORT-dirty}.
 */
final class WarmRelay {

  private WarmRelay() {}

  static List<String> command(Path binary, Path pidFile, Path socket, ColdExport src, String bitmap, Path tlsDir) {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--pidfile", pidFile.toString(), "--object",
        "tls-creds-x509,id=tls0,endpoint=client,dir=" + escape(tlsDir.toString())));
    List<String[]> exports = new ArrayList<>();
    int i = 0;
    for (ColdExport.ColdExportDisk d : src.disks()) {
      String remote = "driver=nbd,server.type=inet,server.host=" + src.host() + ",server.port=" + src.port()
          + ",export=" + d.export() + ",tls-creds=tls0,tls-hostname=" + src.host() + ",read-only=on";
      cmd.add("--blockdev");
      cmd.add(remote + ",node-name=r" + i);
      exports.add(new String[] {"r" + i, d.export()});
      if (bitmap != null) {
        cmd.add("--blockdev");
        cmd.add(remote + ",node-name=m" + i + ",x-dirty-bitmap=qemu:dirty-bitmap:" + bitmap);
        exports.add(new String[] {"m" + i, d.export() + WarmPass.DIRTY_SUFFIX});
      }
      i++;
    }
    cmd.add("--nbd-server");
    cmd.add("addr.type=unix,addr.path=" + escape(socket.toString()));
    for (int e = 0; e < exports.size(); e++) {
      cmd.add("--export");
      cmd.add("type=nbd,id=e" + e + ",node-name=" + exports.get(e)[0] + ",name=" + exports.get(e)[1] + ",writable=off");
    }
    return cmd;
  }

  private static String escape(String value) {
    return value.replace(",", ",,");
  }
}
