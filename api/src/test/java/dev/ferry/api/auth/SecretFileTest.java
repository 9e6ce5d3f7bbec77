package dev.ferry.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SecretFileTest {

  @TempDir Path tmp;

  @Test
  void write_createsOwnerOnlyFile_andReadGivesTheSecretBack() throws Exception {
    Path f = tmp.resolve("s");
    SecretFile.write(f, "abc");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
    assertThat(SecretFile.read(f)).isEqualTo("abc");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--------"));
    assertThat(SecretFile.read(f)).isEqualTo("abc");
  }

  @ParameterizedTest
  @CsvSource({"rw-r--r--,0644", "rw-rw----,0660", "rw----r--,0604", "rwx------,0700", "-w-------,0200"})
  void read_anyOtherMode_isRefusedNamingFileModeAndWhatIsAllowed(String perms, String mode) throws Exception {
    Path f = Files.writeString(tmp.resolve("s"), "abc");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
    assertThatThrownBy(() -> SecretFile.read(f)).isInstanceOf(SecretFile.Refused.class)
        .hasMessageContaining(f.toString()).hasMessageContaining("mode " + mode).hasMessageContaining("0600 or 0400");
  }

  @Test
  void read_missingOrEmpty_isRefusedNamingTheFile() throws Exception {
    assertThatThrownBy(() -> SecretFile.read(tmp.resolve("none"))).hasMessageContaining("does not exist");
    Path empty = tmp.resolve("empty");
    SecretFile.write(empty, "");
    assertThatThrownBy(() -> SecretFile.read(empty)).hasMessageContaining(empty + " is empty");
  }

  @Test
  void sha256_isHexOfTheUtf8Bytes_andNewSecretsDiffer() {
    assertThat(SecretFile.sha256("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(SecretFile.newSecret()).matches("[0-9a-f]{64}").isNotEqualTo(SecretFile.newSecret());
  }
}
