package dev.ferry.nbd;

import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * A request sent and not yet answered in full: what the reader thread needs to take its reply
 * off the wire (a read's reply goes straight into the caller's buffer), and the future its
 * caller waits on.
 *
 * <p>{@link #accept} runs on the reader thread for each reply message with this request's
 * cookie; it reads the message's payload, so that the next message starts at the next header.
 * Error chunks are remembered and fail the command once its last chunk has arrived ("the
 * connection stays usable"); anything else wrong is a protocol error, thrown, and breaks the
 * connection.
 *
 * @param <T> what the command returns
 */
abstract class InFlight<T> {

  final Peer peer;
  final String command;
  final long offset;
  final long length;
  final CompletableFuture<T> future = new CompletableFuture<>();
  private StructuredReplyChunk.ErrorPayload failure;

  InFlight(Peer peer, String command, long offset, long length) {
    this.peer = peer;
    this.command = command;
    this.offset = offset;
    this.length = length;
  }

  /** Handles one reply message with this request's cookie; true when it was the last. */
  abstract boolean accept(Reply reply, Wire wire);

  /**
   * The result once the last message arrived and no error chunk came; throws a protocol
   * exception if the reply as a whole was wrong (e.g. a read not covered).
   */
  abstract T result();

  /** Completes the future: the command's failure if an error chunk came, else its result. */
  final void settle() {
    if (failure != null) {
      future.completeExceptionally(new NbdCommandException(peer.address(), peer.exportName(),
          command, offset, length, failure.error(), failure.message(), failure.offset()));
      return;
    }
    T value = result(); // a protocol error propagates to the reader, which breaks the connection
    future.complete(value);
  }

  /** Remembers the first error of the reply. */
  final void failed(StructuredReplyChunk.ErrorPayload error) {
    if (failure == null) {
      failure = error;
    }
  }

  /** An error in a simple reply, which has no message. */
  final void failed(int error) {
    failed(new StructuredReplyChunk.ErrorPayload(error, "", OptionalLong.empty()));
  }

  /**
   * An error chunk, or an unexpected chunk type: the one handling every command shares for
   * what it does not expect.
   */
  final void unexpected(StructuredReplyChunk chunk, Wire wire) {
    if (!chunk.isError()) {
      throw peer.protocolError("unexpected %s in reply to %s", chunk.typeName(), command);
    }
    failed(StructuredReplyChunk.ErrorPayload.read(wire, peer, chunk));
  }

  @Override
  public String toString() {
    return command + " at offset " + offset + " length " + length;
  }
}
