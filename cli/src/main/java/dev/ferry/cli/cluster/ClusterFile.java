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
 * @param controllerUrl base URL of the controller, e.g. {@code http://127.0.0.1:41234}
 * @param tokenFile the cluster token the controller created
 * @param controller the controller process
 * @param agents one per host, {@code host1..hostN}
 */
public record ClusterFile(String controllerUrl, String tokenFile, Component controller, List<Component> agents) {

  public static final String NAME = "cluster.json";

  public ClusterFile {
    agents = List.copyOf(agents);
  }

  /**
   * One background process of the cluster. {@code pid} is null when it was never started or was
   * stopped by {@code cluster down}; a recorded pid is trusted only after {@link ProcessCheck}.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Component(String name, int port, Long pid, String data, String log) {

    String url() {
      return "http://127.0.0.1:" + port;
    }

    Component withPid(Long newPid) {
      return new Component(name, port, newPid, data, log);
    }
  }

  public Optional<Component> agent(String name) {
    return agents.stream().filter(a -> a.name().equals(name)).findFirst();
  }

  public ClusterFile withController(Component c) {
    return new ClusterFile(controllerUrl, tokenFile, c, agents);
  }

  /** Replaces the agent of the same name, or appends it. */
  public ClusterFile withAgent(Component agent) {
    List<Component> next = new ArrayList<>(agents);
    next.removeIf(a -> a.name().equals(agent.name()));
    next.add(agent);
    next.sort((a, b) -> hostIndex(a.name()) - hostIndex(b.name()));
    return new ClusterFile(controllerUrl, tokenFile, controller, next);
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
