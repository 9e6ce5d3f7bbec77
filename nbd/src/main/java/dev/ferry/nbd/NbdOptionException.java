package dev.ferry.nbd;

/**
 * The server refused the handshake: it answered an option with an {@code NBD_REP_ERR_*} reply
 * (e.g. {@code NBD_REP_ERR_UNKNOWN}: no such export), or does not offer what the client needs
 * (a metadata context, structured replies). Nothing was connected.
 */
public final class NbdOptionException extends NbdException {

  private final String option;
  private final String reply;

  NbdOptionException(NbdAddress address, String exportName, String option, String reply,
      String message) {
    super(address, exportName, message, null);
    this.option = option;
    this.reply = reply;
  }

  /** The server's error reply to {@code option}, with its message if it sent one. */
  static NbdOptionException refused(NbdAddress address, String exportName, int option,
      int replyType, String serverMessage) {
    String what = replyType == Protocol.NBD_REP_ERR_UNKNOWN
        ? "nbd export '%s' not found at %s".formatted(exportName, address)
        : replyType == Protocol.NBD_REP_ERR_TLS_REQD
        ? "nbd server at %s requires TLS (NBD_OPT_STARTTLS) and refused %s for export '%s' "
            .formatted(address, Protocol.optionName(option), exportName) + "without it"
        : "nbd server at %s refused %s for export '%s'".formatted(address,
            Protocol.optionName(option), exportName);
    String detail = serverMessage.isEmpty() ? "" : ": " + serverMessage;
    return new NbdOptionException(address, exportName, Protocol.optionName(option),
        Protocol.replyName(replyType), "%s (%s%s)".formatted(what,
            Protocol.replyName(replyType), detail));
  }

  /** The server answered, but lacks something the client asked for. */
  static NbdOptionException lacking(NbdAddress address, String exportName, int option,
      String problem) {
    return new NbdOptionException(address, exportName, Protocol.optionName(option), "",
        "nbd %s: %s".formatted(where(address, exportName), problem));
  }

  /** The option refused, e.g. {@code NBD_OPT_GO}. */
  public String option() {
    return option;
  }

  /** The spec's name of the error reply, e.g. {@code NBD_REP_ERR_UNKNOWN}; empty if none. */
  public String reply() {
    return reply;
  }

  /** Whether the export does not exist (yet) on the server, a condition worth a retry. */
  public boolean isUnknownExport() {
    return reply.equals("NBD_REP_ERR_UNKNOWN");
  }
}
