package dev.ferry.qmp;

import java.nio.file.Path;

/**
 * QEMU executed the command and answered with an error response
 * ({@code {"error": {"class": ..., "desc": ...}}}). The connection stays usable.
 */
public final class QmpErrorException extends QmpException {

  private final String command;
  private final String errorClass;
  private final String desc;

  QmpErrorException(Path socket, String command, String errorClass, String desc) {
    super(socket, "qmp command '%s' failed: %s: %s".formatted(command, errorClass, desc),
        null);
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
  }

  /** The name of the command that failed, e.g. {@code migrate}. */
  public String command() {
    return command;
  }

  /** QMP's error class: {@code GenericError}, {@code CommandNotFound}, {@code DeviceNotFound}... */
  public String errorClass() {
    return errorClass;
  }

  /** QEMU's human-readable description of the error. */
  public String desc() {
    return desc;
  }
}
