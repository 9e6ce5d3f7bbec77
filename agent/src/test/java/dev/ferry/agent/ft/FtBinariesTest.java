package dev.ferry.agent.ft;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FtBinariesTest {

  @TempDir
  Path dir;

  private Path build(String key, boolean finished, Instant at) throws Exception {
    Path bin = dir.resolve(key).resolve(FtBinaries.BINARY);
    Files.createDirectories(bin.getParent());
    Files.writeString(bin, "qemu");
    Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
    if (finished) {
      Path manifest = dir.resolve(key).resolve("manifest.txt");
      Files.writeString(manifest, "format 1\n");
      Files.setLastModifiedTime(manifest, FileTime.from(at));
    }
    return bin;
  }

  @Test
  void candidates_ftQemuGiven_itFirstThenTheSystemQemu() {
    var system = Path.of("/usr/bin/qemu-system-x86_64");
    assertThat(FtBinaries.candidates(system, Path.of("/opt/ferry/qemu"), dir.resolve("no-installed"), dir))
        .containsExactly(Path.of("/opt/ferry/qemu"), system);
  }

  @Test
  void candidates_noFtQemu_newestFinishedBuildOfTheCacheFirst() throws Exception {
    build("aaaa", true, Instant.parse("2026-12-01T00:00:00Z"));
    Path newest = build("bbbb", true, Instant.parse("2026-12-05T00:00:00Z"));
    build(".build-cccc.x1", false, Instant.now());
    build("dddd", false, Instant.now());
    var system = Path.of("/usr/bin/qemu-system-x86_64");

    assertThat(FtBinaries.candidates(system, null, dir.resolve("no-installed"), dir)).containsExactly(newest, system);
  }

  @Test
  void candidates_noBuild_onlyTheSystemQemu() {
    var system = Path.of("/usr/bin/qemu-system-x86_64");
    assertThat(FtBinaries.candidates(system, null, dir.resolve("no-installed"), dir.resolve("absent"))).containsExactly(system);
    assertThat(FtBinaries.candidates(system, system, dir.resolve("no-installed"), dir)).containsExactly(system);
  }

  /** scripts/install-ft-qemu.sh puts builds where the QEMU user can run them: those come before the cache's. */
  @Test
  void candidates_installedBuild_comesBeforeTheCachesNewer() throws Exception {
    build("cache/aaaa", true, Instant.parse("2026-12-05T00:00:00Z"));
    Path installed = build("installed/bbbb", true, Instant.parse("2026-12-01T00:00:00Z"));
    var system = Path.of("/usr/bin/qemu-system-x86_64");

    assertThat(FtBinaries.candidates(system, null, dir.resolve("installed"), dir.resolve("cache")))
        .containsExactly(installed, system);
  }
}
