package dev.ferry.agent.storage;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdException;
import java.nio.file.Path;
import java.util.List;

/** {@link ExportReader} over {@code dev.ferry.nbd.NbdClient}. */
final class NbdExports {

  private NbdExports() {}

  static ExportReader open(Path socket, String export, String metaContext) {
    NbdClient client;
    try {
      client = NbdClient.connect(NbdAddress.unix(socket), export, metaContext == null ? List.of() : List.of(metaContext));
    } catch (NbdException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot read nbd export " + export + " at " + socket + ": " + e.getMessage(), e);
    }
    return new ExportReader() {
      @Override
      public long size() {
        return client.size();
      }

      @Override
      public byte[] read(long offset, int length) {
        try {
          return client.read(offset, length);
        } catch (NbdException e) {
          throw new AgentException(Kind.UNAVAILABLE, "reading " + length + " bytes at " + offset + " of nbd export "
              + export + " failed: " + e.getMessage(), e);
        }
      }

      @Override
      public List<Extent> blockStatus(long offset, long length) {
        try {
          return client.blockStatus(offset, length, metaContext).stream()
              .map(x -> new Extent(x.length(), x.flags())).toList();
        } catch (NbdException e) {
          throw new AgentException(Kind.UNAVAILABLE, "block status of " + metaContext + " at " + offset + " of nbd export "
              + export + " failed: " + e.getMessage(), e);
        }
      }

      @Override
      public void close() {
        client.close();
      }
    };
  }
}
