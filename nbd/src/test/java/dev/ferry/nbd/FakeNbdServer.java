package dev.ferry.nbd;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted NBD server on a real UNIX socket, for one client connection. The test queues what
 * the server sends and what it expects to receive, in order; a thread plays the script once the
 * client connects. {@link #close()} reports any mismatch or a script cut short.
 *
 * <p>{@code expect...} steps read exactly the bytes named and fail the script on a difference;
 * cookies are predictable (the client numbers requests 1, 2, 3...), so replies name them
 * directly.
 */
final class FakeNbdServer implements AutoCloseable {

  private interface Step {
    void run(SocketChannel channel) throws IOException;
  }

  private final Path socket;
  private final ServerSocketChannel server;
  private final LinkedBlockingQueue<Step> script = new LinkedBlockingQueue<>();
  private final List<Throwable> failures = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile SocketChannel client;

  private FakeNbdServer(Path socket) throws IOException {
    this.socket = socket;
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    this.thread = Thread.ofPlatform().daemon().name("fake-nbd").start(this::play);
  }

  static FakeNbdServer start(Path dir) throws IOException {
    return new FakeNbdServer(dir.resolve("nbd.sock"));
  }

  NbdAddress address() {
    return NbdAddress.unix(socket);
  }

  // ---- raw steps

  FakeNbdServer send(ByteBuffer bytes) {
    ByteBuffer copy = bytes.duplicate();
    script.add(channel -> {
      while (copy.hasRemaining()) {
        channel.write(copy);
      }
    });
    return this;
  }

  /** Reads {@code expected.length} bytes and fails the script if they differ. */
  FakeNbdServer expect(ByteBuffer expected, String what) {
    script.add(channel -> {
      ByteBuffer actual = readFully(channel, expected.remaining());
      if (!actual.equals(expected.duplicate())) {
        throw new AssertionError("%s: expected %s but got %s".formatted(what,
            hex(expected.duplicate()), hex(actual)));
      }
    });
    return this;
  }

  /**
   * Fails the script if the client sends anything within {@code millis}: proves a request was
   * held back (e.g. by the bound on requests in flight).
   */
  FakeNbdServer expectNothingFor(long millis) {
    script.add(channel -> {
      channel.configureBlocking(false);
      try {
        long deadline = System.nanoTime() + millis * 1_000_000;
        ByteBuffer one = ByteBuffer.allocate(1);
        while (System.nanoTime() < deadline) {
          if (channel.read(one) != 0) {
            throw new AssertionError("the client sent %s within %d ms".formatted(
                hex(one.flip()), millis));
          }
          Thread.sleep(5);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        channel.configureBlocking(true);
      }
    });
    return this;
  }

  /** Closes the connection: the client sees the server hang up. */
  FakeNbdServer hangUp() {
    script.add(SocketChannel::close);
    return this;
  }

  /** Waits until the test lets the script end, keeping the connection open and silent. */
  FakeNbdServer stall(long millis) {
    script.add(channel -> {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    return this;
  }

  // ---- handshake

  /** Greeting, client flags, and an ACK to NBD_OPT_STRUCTURED_REPLY. */
  FakeNbdServer handshakeStart() {
    send(ByteBuffer.allocate(18).putLong(Protocol.NBDMAGIC).putLong(Protocol.IHAVEOPT)
        .putShort((short) (Protocol.NBD_FLAG_FIXED_NEWSTYLE | Protocol.NBD_FLAG_NO_ZEROES))
        .flip());
    expect(ByteBuffer.allocate(4).putInt(3).flip(), "client flags");
    expect(OptStructuredReply.encode(), "NBD_OPT_STRUCTURED_REPLY");
    return optionReply(Protocol.NBD_OPT_STRUCTURED_REPLY, Protocol.NBD_REP_ACK, new byte[0]);
  }

  FakeNbdServer optionReply(int option, int type, byte[] data) {
    return send(ByteBuffer.allocate(20 + data.length).putLong(Protocol.OPTION_REPLY_MAGIC)
        .putInt(option).putInt(type).putInt(data.length).put(data).flip());
  }

  FakeNbdServer metaContexts(String exportName, List<String> queries, List<String> offered) {
    expect(OptSetMetaContext.encode(exportName, queries), "NBD_OPT_SET_META_CONTEXT");
    for (int i = 0; i < offered.size(); i++) {
      byte[] name = offered.get(i).getBytes(UTF_8);
      optionReply(Protocol.NBD_OPT_SET_META_CONTEXT, Protocol.NBD_REP_META_CONTEXT,
          ByteBuffer.allocate(4 + name.length).putInt(i + 1).put(name).array());
    }
    return optionReply(Protocol.NBD_OPT_SET_META_CONTEXT, Protocol.NBD_REP_ACK, new byte[0]);
  }

  /** Expects NBD_OPT_GO for {@code exportName}; answers NBD_INFO_EXPORT and NBD_REP_ACK. */
  FakeNbdServer go(String exportName, long size) {
    expectGo(exportName);
    optionReply(Protocol.NBD_OPT_GO, Protocol.NBD_REP_INFO, ByteBuffer.allocate(12)
        .putShort((short) Protocol.NBD_INFO_EXPORT).putLong(size)
        .putShort((short) (Protocol.NBD_FLAG_HAS_FLAGS | Protocol.NBD_FLAG_READ_ONLY)).array());
    return optionReply(Protocol.NBD_OPT_GO, Protocol.NBD_REP_ACK, new byte[0]);
  }

  FakeNbdServer expectGo(String exportName) {
    return expect(OptGo.encode(exportName, Protocol.NBD_INFO_BLOCK_SIZE), "NBD_OPT_GO");
  }

  // ---- transmission

  FakeNbdServer expectRequest(int type, long cookie, long offset, int length) {
    return expect(Request.encode(0, type, cookie, offset, length), Request.commandName(type));
  }

  FakeNbdServer chunk(int flags, int type, long cookie, ByteBuffer payload) {
    return send(chunkHeader(flags, type, cookie, payload.remaining()))
        .send(payload);
  }

  static ByteBuffer chunkHeader(int flags, int type, long cookie, long length) {
    return ByteBuffer.allocate(20).putInt(Protocol.NBD_STRUCTURED_REPLY_MAGIC)
        .putShort((short) flags).putShort((short) type).putLong(cookie).putInt((int) length)
        .flip();
  }

  FakeNbdServer offsetData(int flags, long cookie, long offset, byte[] data) {
    return chunk(flags, Protocol.NBD_REPLY_TYPE_OFFSET_DATA, cookie,
        ByteBuffer.allocate(8 + data.length).putLong(offset).put(data).flip());
  }

  FakeNbdServer offsetHole(int flags, long cookie, long offset, int length) {
    return chunk(flags, Protocol.NBD_REPLY_TYPE_OFFSET_HOLE, cookie,
        ByteBuffer.allocate(12).putLong(offset).putInt(length).flip());
  }

  FakeNbdServer errorChunk(int flags, long cookie, int error, String message) {
    byte[] text = message.getBytes(UTF_8);
    return chunk(flags, Protocol.NBD_REPLY_TYPE_ERROR, cookie, ByteBuffer
        .allocate(6 + text.length).putInt(error).putShort((short) text.length).put(text).flip());
  }

  FakeNbdServer blockStatus(int flags, long cookie, int contextId, long... lengthsAndFlags) {
    ByteBuffer payload = ByteBuffer.allocate(4 + 4 * lengthsAndFlags.length).putInt(contextId);
    for (long value : lengthsAndFlags) {
      payload.putInt((int) value);
    }
    return chunk(flags, Protocol.NBD_REPLY_TYPE_BLOCK_STATUS, cookie, payload.flip());
  }

  // ---- running

  private void play() {
    try {
      try {
        client = server.accept();
      } catch (ClosedChannelException e) {
        // closed before any client came, as a test of "nobody connects" wants; before or
        // during accept()
        return;
      }
      while (true) {
        Step step = script.poll(10, TimeUnit.SECONDS);
        if (step == null) {
          return; // the test queued nothing more
        }
        if (step == END) {
          return;
        }
        step.run(client);
      }
    } catch (IOException | RuntimeException | AssertionError e) {
      failures.add(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static final Step END = channel -> { };

  /** Ends the script, waits for it, and rethrows the first mismatch. */
  @Override
  public void close() throws IOException {
    script.add(END);
    if (client == null) {
      server.close();
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(15));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    SocketChannel c = client;
    if (c != null) {
      c.close();
    }
    server.close();
    if (!failures.isEmpty()) {
      throw new AssertionError("fake nbd server script failed", failures.getFirst());
    }
  }

  private static ByteBuffer readFully(SocketChannel channel, int n) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(n);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new AssertionError("client closed the connection; got " + hex(buffer.flip()));
      }
    }
    return buffer.flip();
  }

  static String hex(ByteBuffer bytes) {
    byte[] array = new byte[bytes.remaining()];
    bytes.duplicate().get(array);
    return HexFormat.of().formatHex(array);
  }
}
