package dev.ferry.agent.storage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.Json;
import dev.ferry.agent.Subprocess;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code qemu-img} calls of a storage move: info, create, compare. Convert runs in {@link OfflineCopy}. */
final class QemuImg {

  private static final Pattern MISMATCH = Pattern.compile("mismatch at offset (\\d+)");

  private final Path binary;
  /** makes a new image QEMU's (owner, mode 0600) before QEMU is told to open it */
  private final Consumer<Path> handOver;

  QemuImg(Path binary) {
    this(binary, p -> {});
  }

  QemuImg(Path binary, Consumer<Path> handOver) {
    this.binary = binary;
    this.handOver = handOver;
  }

  Path binary() {
    return binary;
  }

  /** Virtual and allocated size of an image; {@code -U} because a running QEMU holds its lock. */
  record Info(long virtualSize, long actualSize) {}

  Info info(Path image, String format) {
    String out = run(List.of("info", "-U", "--output=json", "-f", format, image.toString()), 30).out();
    try {
      JsonNode n = Json.mapper().readTree(out);
      return new Info(n.path("virtual-size").asLong(), n.path("actual-size").asLong());
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot parse qemu-img info of " + image + ": " + out, e);
    }
  }

  void create(Path image, String format, long virtualSize) {
    run(List.of("create", "-q", "-f", format, image.toString(), Long.toString(virtualSize)), 60).requireOk();
    handOver.accept(image);
  }

  /** The first differing offset, or -1 when the images hold the same data. */
  long compare(Path a, String formatA, Path b, String formatB) {
    Subprocess.Result r = run(List.of("compare", "-U", "-f", formatA, "-F", formatB, a.toString(), b.toString()), 3600);
    if (r.exit() == 0) return -1;
    if (r.exit() == 1) {
      Matcher m = MISMATCH.matcher(r.out());
      return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
    throw new AgentException(Kind.UNAVAILABLE, "qemu-img compare " + a + " " + b + " failed (exit " + r.exit() + "): " + r.out());
  }

  private Subprocess.Result run(List<String> args, int timeoutSeconds) {
    var cmd = new ArrayList<String>();
    cmd.add(binary.toString());
    cmd.addAll(args);
    return Subprocess.run(cmd, Duration.ofSeconds(timeoutSeconds));
  }
}
