package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.OutgoingPhase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * docs/cluster-contract.md lists every phase of every persisted state machine; it once named
 * storage phases (PREFLIGHT, MIRROR, UPDATE_INVENTORY…) the code never had. Each paragraph that
 * names an enum in backticks lists, in its backticked upper-case names and {@code A → B} chains,
 * exactly that enum's constants.
 */
class ContractPhasesTest {

  private static final Path DOC = Path.of("..", "docs", "cluster-contract.md");
  private static final Pattern CHAIN = Pattern.compile("`([A-Z][A-Z_]+(?: (?:→|\\|) [A-Z][A-Z_]+)*)`");

  @Test
  void storagePhases_inTheContract_areTheEnums() throws IOException {
    assertThat(listed("Controller phases (`StoragePhase`")).isEqualTo(names(StoragePhase.values()));
  }

  @Test
  void livePhases_inTheContract_areTheEnums() throws IOException {
    assertThat(listed("Controller phases (`LivePhase`)")).isEqualTo(names(LivePhase.values()));
  }

  @Test
  void warmPhases_inTheContract_areTheEnums() throws IOException {
    assertThat(listed("Controller phases (`WarmPhase`)")).isEqualTo(names(WarmPhase.values()));
  }

  @Test
  void agentPhases_inTheContract_areTheEnums() throws IOException {
    assertThat(listed("source's (`OutgoingPhase`", "target's (`IncomingPhase`"))
        .isEqualTo(names(OutgoingPhase.values()));
    assertThat(listed("target's (`IncomingPhase`", "`QemuMigrationStatus`")).isEqualTo(names(IncomingPhase.values()));
    assertThat(listed("whose state (`MirrorState`)", "The state")).isEqualTo(names(MirrorState.values()));
  }

  private static Set<String> names(Enum<?>[] values) {
    return Arrays.stream(values).map(Enum::name).collect(Collectors.toCollection(TreeSet::new));
  }

  /** The phase names in the chains of the paragraph that starts at {@code from}. */
  private static Set<String> listed(String from) throws IOException {
    return listed(from, "\n\n");
  }

  /** The phase names in the chains between {@code from} and the next {@code until}. */
  private static Set<String> listed(String from, String until) throws IOException {
    String doc = Files.readString(DOC);
    int start = doc.indexOf(from);
    assertThat(start).as(DOC + " has '" + from + "'").isNotNegative();
    int end = doc.indexOf(until, start + from.length());
    String text = doc.substring(start, end < 0 ? doc.length() : end).replace('\n', ' ');
    Set<String> out = new TreeSet<>();
    Matcher m = CHAIN.matcher(text);
    while (m.find()) out.addAll(Arrays.asList(m.group(1).split(" (→|\\|) ")));
    return out;
  }
}
