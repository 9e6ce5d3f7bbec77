package dev.ferry.agent.ft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache key of ft-qemu/build-qemu.sh ({@code --print-key}, which builds nothing): it must
 * change with the source version, any patch and the script (its configure flags), and only then.
 */
class BuildQemuKeyTest {

  private static final String VERSION = "1:7.2+dfsg-7+deb12u18";

  @TempDir
  Path dir;
  Path ft;

  @BeforeEach
  void copyTheScriptAndPatches() throws Exception {
    // surefire runs in the module directory; the script lives at the repository's root
    Path repo = Path.of("").toAbsolutePath().getParent();
    ft = dir.resolve("ft-qemu");
    Files.createDirectories(ft.resolve("patches"));
    Files.copy(repo.resolve("ft-qemu/build-qemu.sh"), ft.resolve("build-qemu.sh"));
    try (var patches = Files.list(repo.resolve("ft-qemu/patches"))) {
      for (Path p : patches.toList()) Files.copy(p, ft.resolve("patches").resolve(p.getFileName()));
    }
  }

  private String keyOf(String version) throws Exception {
    var pb = new ProcessBuilder(List.of("bash", ft.resolve("build-qemu.sh").toString(), "--print-key"));
    pb.environment().put("FERRY_QEMU_SOURCE_VERSION", version);
    pb.redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p = pb.start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes());
    }
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    List<String> lines = out.lines().toList();
    assertThat(lines).contains("source qemu " + version);
    String last = lines.get(lines.size() - 1);
    assertThat(last).matches("key [0-9a-f]{16}");
    return last.substring(4);
  }

  @Test
  void key_unchangedInputs_isStable() throws Exception {
    assertThat(keyOf(VERSION)).isEqualTo(keyOf(VERSION));
  }

  @Test
  void key_debianSecurityUpdate_changes() throws Exception {
    assertThat(keyOf("1:7.2+dfsg-7+deb12u19")).isNotEqualTo(keyOf(VERSION));
  }

  @Test
  void key_patchEdited_changes() throws Exception {
    String before = keyOf(VERSION);
    Path patch;
    try (var patches = Files.list(ft.resolve("patches"))) {
      patch = patches.findFirst().orElseThrow();
    }
    Files.writeString(patch, Files.readString(patch) + "\n");

    assertThat(keyOf(VERSION)).isNotEqualTo(before);
  }

  @Test
  void key_patchAdded_changes() throws Exception {
    String before = keyOf(VERSION);
    Files.writeString(ft.resolve("patches/zz-another.patch"), "--- a/x\n+++ b/x\n");

    assertThat(keyOf(VERSION)).isNotEqualTo(before);
  }

  @Test
  void key_scriptEdited_changes() throws Exception {
    String before = keyOf(VERSION);
    Path script = ft.resolve("build-qemu.sh");
    Files.writeString(script, Files.readString(script).replace("--enable-zstd", "--disable-zstd"));

    assertThat(keyOf(VERSION)).isNotEqualTo(before);
  }
}
