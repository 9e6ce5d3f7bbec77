package dev.ferry.nbd;

/**
 * Every number of the NBD protocol this client uses, in one place, named and valued as in the
 * spec (doc/proto.md of the NetworkBlockDevice/nbd repository). All integers are big-endian on
 * the wire.
 */
final class Protocol {

  private Protocol() {}

  // handshake (fixed newstyle)
  static final long NBDMAGIC = 0x4e42444d41474943L;
  static final long IHAVEOPT = 0x49484156454F5054L;
  /** The oldstyle handshake's second magic; such servers cannot negotiate anything. */
  static final long CLISERV_MAGIC = 0x00420281861253L;
  static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

  static final int NBD_FLAG_FIXED_NEWSTYLE = 1;
  static final int NBD_FLAG_NO_ZEROES = 1 << 1;
  static final int NBD_FLAG_C_FIXED_NEWSTYLE = 1;
  static final int NBD_FLAG_C_NO_ZEROES = 1 << 1;

  // options
  static final int NBD_OPT_ABORT = 2;
  static final int NBD_OPT_STARTTLS = 5;
  static final int NBD_OPT_GO = 7;
  static final int NBD_OPT_STRUCTURED_REPLY = 8;
  static final int NBD_OPT_SET_META_CONTEXT = 10;

  // option reply types
  static final int NBD_REP_ACK = 1;
  static final int NBD_REP_INFO = 3;
  static final int NBD_REP_META_CONTEXT = 4;
  static final int NBD_REP_FLAG_ERROR = 1 << 31;
  static final int NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR | 1;
  static final int NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR | 2;
  static final int NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR | 3;
  static final int NBD_REP_ERR_PLATFORM = NBD_REP_FLAG_ERROR | 4;
  static final int NBD_REP_ERR_TLS_REQD = NBD_REP_FLAG_ERROR | 5;
  static final int NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR | 6;
  static final int NBD_REP_ERR_SHUTDOWN = NBD_REP_FLAG_ERROR | 7;
  static final int NBD_REP_ERR_BLOCK_SIZE_REQD = NBD_REP_FLAG_ERROR | 8;
  static final int NBD_REP_ERR_TOO_BIG = NBD_REP_FLAG_ERROR | 9;
  static final int NBD_REP_ERR_EXT_HEADER_REQD = NBD_REP_FLAG_ERROR | 10;

  // NBD_REP_INFO types
  static final int NBD_INFO_EXPORT = 0;
  static final int NBD_INFO_NAME = 1;
  static final int NBD_INFO_DESCRIPTION = 2;
  static final int NBD_INFO_BLOCK_SIZE = 3;

  // transmission flags (the ones this client reads)
  static final int NBD_FLAG_HAS_FLAGS = 1;
  static final int NBD_FLAG_READ_ONLY = 1 << 1;
  static final int NBD_FLAG_SEND_FLUSH = 1 << 2;
  static final int NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
  static final int NBD_FLAG_CAN_MULTI_CONN = 1 << 8;

  // transmission: requests
  static final int NBD_REQUEST_MAGIC = 0x25609513;
  static final int REQUEST_LENGTH = 28;
  static final int NBD_CMD_READ = 0;
  static final int NBD_CMD_WRITE = 1;
  static final int NBD_CMD_DISC = 2;
  static final int NBD_CMD_FLUSH = 3;
  static final int NBD_CMD_WRITE_ZEROES = 6;
  static final int NBD_CMD_BLOCK_STATUS = 7;

  // transmission: replies
  static final int NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
  static final int NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;
  static final int NBD_REPLY_FLAG_DONE = 1;
  static final int NBD_REPLY_TYPE_NONE = 0;
  static final int NBD_REPLY_TYPE_OFFSET_DATA = 1;
  static final int NBD_REPLY_TYPE_OFFSET_HOLE = 2;
  static final int NBD_REPLY_TYPE_BLOCK_STATUS = 5;
  static final int NBD_REPLY_TYPE_FLAG_ERROR = 1 << 15;
  static final int NBD_REPLY_TYPE_ERROR = NBD_REPLY_TYPE_FLAG_ERROR | 1;
  static final int NBD_REPLY_TYPE_ERROR_OFFSET = NBD_REPLY_TYPE_FLAG_ERROR | 2;

  /** Strings (export names, messages) MUST be no longer than this. */
  static final int MAX_STRING = 4096;

  /** A readable name for an option, for messages. */
  static String optionName(int option) {
    return switch (option) {
      case NBD_OPT_ABORT -> "NBD_OPT_ABORT";
      case NBD_OPT_STARTTLS -> "NBD_OPT_STARTTLS";
      case NBD_OPT_GO -> "NBD_OPT_GO";
      case NBD_OPT_STRUCTURED_REPLY -> "NBD_OPT_STRUCTURED_REPLY";
      case NBD_OPT_SET_META_CONTEXT -> "NBD_OPT_SET_META_CONTEXT";
      default -> "option " + option;
    };
  }

  /** A readable name for an option reply type, for messages. */
  static String replyName(int type) {
    return switch (type) {
      case NBD_REP_ACK -> "NBD_REP_ACK";
      case NBD_REP_INFO -> "NBD_REP_INFO";
      case NBD_REP_META_CONTEXT -> "NBD_REP_META_CONTEXT";
      case NBD_REP_ERR_UNSUP -> "NBD_REP_ERR_UNSUP";
      case NBD_REP_ERR_POLICY -> "NBD_REP_ERR_POLICY";
      case NBD_REP_ERR_INVALID -> "NBD_REP_ERR_INVALID";
      case NBD_REP_ERR_PLATFORM -> "NBD_REP_ERR_PLATFORM";
      case NBD_REP_ERR_TLS_REQD -> "NBD_REP_ERR_TLS_REQD";
      case NBD_REP_ERR_UNKNOWN -> "NBD_REP_ERR_UNKNOWN";
      case NBD_REP_ERR_SHUTDOWN -> "NBD_REP_ERR_SHUTDOWN";
      case NBD_REP_ERR_BLOCK_SIZE_REQD -> "NBD_REP_ERR_BLOCK_SIZE_REQD";
      case NBD_REP_ERR_TOO_BIG -> "NBD_REP_ERR_TOO_BIG";
      case NBD_REP_ERR_EXT_HEADER_REQD -> "NBD_REP_ERR_EXT_HEADER_REQD";
      default -> (type & NBD_REP_FLAG_ERROR) != 0
          ? "NBD_REP_ERR_(2^31+" + (type & ~NBD_REP_FLAG_ERROR) + ")"
          : "reply type " + type;
    };
  }

  /** The spec's name of an NBD error number (errno values as in Linux), for messages. */
  static String errorName(int error) {
    return switch (error) {
      case 1 -> "NBD_EPERM";
      case 5 -> "NBD_EIO";
      case 12 -> "NBD_ENOMEM";
      case 22 -> "NBD_EINVAL";
      case 28 -> "NBD_ENOSPC";
      case 75 -> "NBD_EOVERFLOW";
      case 95 -> "NBD_ENOTSUP";
      case 108 -> "NBD_ESHUTDOWN";
      default -> "error " + Integer.toUnsignedString(error);
    };
  }
}
