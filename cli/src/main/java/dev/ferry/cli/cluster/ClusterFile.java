package dev.ferry.cli.cluster;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.ferry.api.Json;
import dev.ferry.cli.CliException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code DIR/cluster.json}: what {@code ferry cluster up} started, so that the next {@code up} reuses
 * the ports, {@code down} stops exactly these processes, and every other command finds the
 * controller URL and token file. Written with {@link Json#mapper()} (snake_case).
 *
 * @param controllerUrl base URL of the controller, e.g. {@code https://127.0.0.1:41234}
 * @param tokenFile the cluster token the controller created
 * @param controller the controller process
 * @param agents one per host, {@code host1..hostN}
 * @param caFile the cluster CA's certificate, which the controller's and agents' certificates chain
 *     to; null in a file from before TLS (its controller URL is then {@code http://})
 */
public record ClusterFile(String controllerUrl, String tokenFile, Component controller, List<Component> agents,
    String caFile) {

  public static final String NAME = "cluster.json";

  public ClusterFile {
    agents = List.copyOf(agents);
  }

  public ClusterFile(String controllerUrl, String tokenFile, Component controller, List<Component> agents) {
    this(controllerUrl, tokenFile, controller, agents, null);
  }

  /**
   * One background process of the cluster. {@code pid} is null when it was never started or was
   * stopped by {@code cluster down}; a recorded pid is trusted only after {@link ProcessCheck}.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Component(String name, int port, Long pid, String data, String log) {

    /** Where the process serves, over TLS: every component of a local cluster does. */
    String url() {
      return "https://127.0.0.1:" + port;
    }

    Component withPid(Long newPid) {
      return new Component(name, port, newPid, data, log);
    }
  }

  public Optional<Component> agent(String name) {
    return agents.stream().filter(a -> a.name().equals(name)).findFirst();
  }

  public ClusterFile withController(Component c) {
    return new ClusterFile(controllerUrl, tokenFile, c, agents, caFile);
  }

  /** Replaces the agent of the same name, or appends it. */
  public ClusterFile withAgent(Component agent) {
    List<Component> next = new ArrayList<>(agents);
    next.removeIf(a -> a.name().equals(agent.name()));
    next.add(agent);
    next.sort((a, b) -> hostIndex(a.name()) - hostIndex(b.name()));
    return new ClusterFile(controllerUrl, tokenFile, controller, next, caFile);
  }

  /** The same cluster served over TLS with the CA certificate {@code ca}: its controller URL becomes {@code https://}. */
  public ClusterFile withTls(String ca) {
    return new ClusterFile(controllerUrl.replaceFirst("^http://", "https://"), tokenFile, controller, agents, ca);
  }

  private static int hostIndex(String name) {
    try {
      return Integer.parseInt(name.replaceFirst("^host", ""));
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  public static Optional<ClusterFile> read(Path dir) {
    Path file = dir.resolve(NAME);
    try {
      return Optional.of(Json.mapper().readValue(Files.readAllBytes(file), ClusterFile.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw CliException.local("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes through a temporary file and a rename, so a crash never leaves half a file. */
  public void write(Path dir) {
    Path file = dir.resolve(NAME);
    Path tmp = dir.resolve(NAME + ".tmp");
    try {
      Files.createDirectories(dir);
      Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(this));
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw CliException.local("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
