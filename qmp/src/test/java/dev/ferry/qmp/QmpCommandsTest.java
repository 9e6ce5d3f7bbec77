package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.colo.QueryColoStatus;
import dev.ferry.qmp.colo.XColoLostHeartbeat;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.machine.Quit;
import dev.ferry.qmp.machine.SystemPowerdown;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each typed command against what QEMU 7.2 really returns. */
class QmpCommandsTest {

  private static JsonNode json(String text) throws Exception {
    return QmpCodec.MAPPER.readTree(text);
  }

  static Stream<Arguments> commandsAndNames() {
    return Stream.of(
        Arguments.of(new QmpCapabilities(), "qmp_capabilities"),
        Arguments.of(new QueryStatus(), "query-status"),
        Arguments.of(new Cont(), "cont"),
        Arguments.of(new SystemPowerdown(), "system_powerdown"),
        Arguments.of(new Quit(), "quit"),
        Arguments.of(new QueryColoStatus(), "query-colo-status"),
        Arguments.of(new XColoLostHeartbeat(), "x-colo-lost-heartbeat"));
  }

  @ParameterizedTest
  @MethodSource("commandsAndNames")
  void command_name_isTheQapiName(QmpCommand<?> command, String name) {
    assertThat(command.name()).isEqualTo(name);
    assertThat(command.arguments()).isEmpty();
  }

  @Test
  void qmpCapabilities_withEnable_sendsTheList() {
    assertThat(new QmpCapabilities(List.of("oob")).arguments())
        .isEqualTo(Map.of("enable", List.of("oob")));
  }

  @Test
  void queryStatus_prelaunch_parses() throws Exception {
    assertThat(new QueryStatus().parse(
        json("{\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}")))
        .isEqualTo(new QueryStatus.StatusInfo("prelaunch", false));
  }

  @Test
  void queryColoStatus_afterPrimaryFailover_parsesModeLastModeAndReason() throws Exception {
    // what colo.md's failover left on the primary: x-colo-lost-heartbeat, then mode none
    assertThat(new QueryColoStatus().parse(
        json("{\"mode\": \"none\", \"last-mode\": \"primary\", \"reason\": \"request\"}")))
        .isEqualTo(new QueryColoStatus.ColoStatus("none", "primary", "request"));
  }

  @Test
  void queryColoStatus_withoutReason_namesTheMember() {
    assertThatThrownBy(() -> new QueryColoStatus().parse(json("{\"mode\": \"secondary\", \"last-mode\": \"none\"}")))
        .hasMessageContaining("reason");
  }

  @Test
  void greetingVersion_debianBuild_parses() throws Exception {
    assertThat(VersionInfo.parse(json("{\"qemu\": {\"micro\": 22, \"minor\": 2, "
        + "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}")))
        .isEqualTo(new VersionInfo(7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3"));
  }

  @Test
  void voidCommand_emptyReturn_parsesToNull() throws Exception {
    assertThat(new Cont().parse(json("{}"))).isNull();
  }

  @Test
  void queryStatus_memberOfTheWrongType_namesTheMember() {
    assertThatThrownBy(() -> new QueryStatus().parse(json("{\"status\": \"running\", \"running\": \"no\"}")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("member 'running' missing or not a boolean");
  }
}
