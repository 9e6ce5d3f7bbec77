package dev.ferry.agent.pool;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.Subprocess;
import dev.ferry.api.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The pool guard for what an image names inside itself. A qcow2 header can name a backing file and
 * an external data file, and QEMU opens both when it opens the image; checking only the path the
 * user gave let {@code qemu-img create -f qcow2 -F raw -b /etc/hostname evil.qcow2} hand any host
 * file to a guest. So every layer of the chain, and every data file, must lie inside a pool.
 *
 * <p>The chain is walked one layer at a time ({@code qemu-img info --output=json} per layer, which
 * is what {@code --backing-chain} prints in one go) so that a layer is checked <em>before</em>
 * anything opens it: even qemu-img never opens a file outside the pools (a FIFO or a device there
 * would hang or be read).
 */
public final class ImageChain {

  /** deeper chains are refused: real ones are a few layers, and a loop must end */
  static final int MAX_LAYERS = 16;
  private static final Duration INFO_TIMEOUT = Duration.ofSeconds(30);

  private ImageChain() {}

  /**
   * Every file QEMU would open for {@code image} (itself first, then its backing layers and data
   * files, all real paths), or bad input naming {@code field}, the image and the offending layer.
   *
   * @param image the real path, already through {@link Pools#guard}
   * @param format how QEMU opens the top layer (qcow2 or raw)
   */
  public static List<Path> require(String field, Path image, String format, Pools pools, Path qemuImg) {
    var files = new ArrayList<Path>();
    files.add(image);
    Path layer = image;
    String layerFormat = format;
    for (int depth = 0; ; depth++) {
      JsonNode info = info(field, image, layer, layerFormat, qemuImg);
      JsonNode dataFile = info.path("format-specific").path("data").path("data-file");
      if (dataFile.isTextual()) {
        files.add(inPools(field, image, "data file", dataFile.asText(), layer, pools));
      }
      JsonNode backing = info.path("full-backing-filename");
      if (!backing.isTextual()) return List.copyOf(files);
      if (depth + 1 >= MAX_LAYERS) {
        throw AgentException.badInput(field, image.toString(), "an image of at most " + MAX_LAYERS + " layers");
      }
      layer = inPools(field, image, "backing file (layer " + (depth + 1) + ")", backing.asText(), layer, pools);
      files.add(layer);
      JsonNode backingFormat = info.path("backing-filename-format");
      layerFormat = backingFormat.isTextual() ? backingFormat.asText() : null;
    }
  }

  private static Path inPools(String field, Path image, String what, String named, Path namedBy, Pools pools) {
    String allowed = "an image whose every backing layer and data file lies inside one of the pools "
        + PathGuard.describe(pools.all()) + "; its " + what + " '" + named + "', named by " + namedBy + ", ";
    if (!named.startsWith("/")) {
      // a relative data file is resolved against QEMU's working directory, not the image's; json: and
      // protocol names (nbd://, file:) are no paths at all
      throw AgentException.badInput(field, image.toString(), allowed + "is not an absolute path");
    }
    try {
      return pools.guard(field, named);
    } catch (AgentException e) {
      throw AgentException.badInput(field, image.toString(), allowed + "is not (" + e.allowed() + ")");
    }
  }

  /** The image's virtual size; {@code -U}: a read-only export or the QEMU of a running VM may hold its lock. */
  public static long virtualSize(Path image, String format, Path qemuImg) {
    String out = Subprocess.run(List.of(qemuImg.toString(), "info", "-U", "--output=json", "-f", format,
        image.toString()), INFO_TIMEOUT).requireOk().out();
    try {
      return Json.mapper().readTree(out).path("virtual-size").asLong();
    } catch (IOException e) {
      throw new AgentException(AgentException.Kind.INTERNAL, "cannot parse qemu-img info of " + image + ": " + out, e);
    }
  }

  private static JsonNode info(String field, Path image, Path layer, String format, Path qemuImg) {
    var cmd = new ArrayList<>(List.of(qemuImg.toString(), "info", "--output=json", "-U"));
    if (format != null) cmd.addAll(List.of("-f", format));
    cmd.add(layer.toString());
    Subprocess.Result r = Subprocess.run(cmd, INFO_TIMEOUT);
    if (r.exit() != 0) {
      throw AgentException.badInput(field, image.toString(), "a disk image qemu-img can read; layer " + layer + ": "
          + r.out().strip());
    }
    try {
      // stdout and stderr come together: a warning may precede the JSON
      return Json.mapper().readTree(r.out().substring(Math.max(0, r.out().indexOf('{'))));
    } catch (IOException e) {
      throw AgentException.badInput(field, image.toString(), "a disk image qemu-img can describe; layer " + layer
          + " gave: " + r.out().strip());
    }
  }
}
