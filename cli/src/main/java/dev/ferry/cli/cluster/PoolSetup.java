package dev.ferry.cli.cluster;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.PoolView;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The pools of a local cluster: {@code shared} at {@code DIR/pools/shared} on every host, and
 * {@code local} at {@code DIR/hosts/hostI/local} on hostI. Observes before it acts: a pool that
 * already exists with the same path is fine, one with another path is an error naming both.
 */
record PoolSetup(ControllerClient api, ClusterLayout layout, PrintWriter out) {

  void ensure(int hosts) {
    mkdirs(layout.sharedPool());
    for (int i = 1; i <= hosts; i++) {
      String host = ClusterLayout.hostName(i);
      if (!exists(ClusterLayout.SHARED_POOL, host, layout.sharedPool())) {
        create(new PoolCreateRequest(ClusterLayout.SHARED_POOL, host, layout.sharedPool().toString(), true));
      }
    }
    for (int i = 1; i <= hosts; i++) {
      String host = ClusterLayout.hostName(i);
      mkdirs(layout.localPool(host));
      if (!exists(ClusterLayout.LOCAL_POOL, host, layout.localPool(host))) {
        create(new PoolCreateRequest(ClusterLayout.LOCAL_POOL, host, layout.localPool(host).toString(), false));
      }
    }
  }

  /** Whether {@code name} is on {@code host} at {@code path}; throws if it is there at another path. */
  private boolean exists(String name, String host, Path path) {
    for (PoolView p : pools()) {
      if (!p.name().equals(name) || !p.host().equals(host)) continue;
      if (Path.of(p.path()).normalize().equals(path)) return true;
      throw new CliException(CliException.Kind.LOCAL, "pool " + name + " on " + host + " is at " + p.path()
          + ", not at " + path + "; remove it or use another cluster directory");
    }
    return false;
  }

  private void create(PoolCreateRequest request) {
    try {
      api.post(ApiPaths.POOLS, request, com.fasterxml.jackson.databind.JsonNode.class);
      out.println("created pool " + request.name() + " on " + request.host() + " at " + request.path());
    } catch (CliException e) {
      // a shared pool created for an earlier host may already cover this one: 409, and then it is there
      if (e.status() == 409 && exists(request.name(), request.host(), Path.of(request.path()))) return;
      throw e;
    }
  }

  private List<PoolView> pools() {
    return api.get(ApiPaths.POOLS, new TypeReference<List<PoolView>>() {});
  }

  private static void mkdirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw CliException.local("cannot create pool directory " + dir + ": " + e.getMessage(), e);
    }
  }
}
