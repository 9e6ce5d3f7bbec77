package dev.ferry.qmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writing side: one thread sends queued command lines in order. Callers only enqueue, so a
 * socket QEMU has stopped reading (full buffer, stopped process) never holds a caller past its
 * deadline, and writes are serialised without a lock.
 */
final class Outbox {

  private static final Logger log = LoggerFactory.getLogger(Outbox.class);

  private record Outgoing(PendingCalls.Call call, byte[] line) {}

  private final Path socket;
  private final WritableByteChannel channel;
  private final PendingCalls pending;
  private final Consumer<IOException> onFailure;
  private final LinkedBlockingQueue<Outgoing> queue = new LinkedBlockingQueue<>();
  private final Thread writer;

  /** @param onFailure told when a write fails; the connection is then unusable */
  Outbox(Path socket, WritableByteChannel channel, PendingCalls pending,
      Consumer<IOException> onFailure) {
    this.socket = socket;
    this.channel = channel;
    this.pending = pending;
    this.onFailure = onFailure;
    this.writer = Thread.ofVirtual().name("qmp-writer " + socket).unstarted(this::run);
  }

  void start() {
    writer.start();
  }

  void add(PendingCalls.Call call, byte[] line) {
    queue.add(new Outgoing(call, line));
  }

  /** Stops the writer; whatever is still queued is not sent. */
  void stop() {
    writer.interrupt();
  }

  private void run() {
    try {
      while (true) {
        Outgoing next = queue.take();
        if (!pending.isPending(next.call())) {
          continue; // timed out or cancelled while queued: its caller has given up, so don't run it
        }
        if (log.isDebugEnabled()) {
          log.debug("qmp {} -> {}", socket, QmpCodec.text(next.line()).strip());
        }
        ByteBuffer bytes = ByteBuffer.wrap(next.line());
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
      }
    } catch (InterruptedException e) {
      // stop() ends the writer this way
    } catch (IOException e) {
      onFailure.accept(e);
    }
  }
}
