/**
 * A client for the QEMU Machine Protocol (QMP): JSON commands, replies and events over the UNIX
 * socket of one QEMU process.
 *
 * <p>Start at {@link dev.ferry.qmp.QmpClient}; every failure is a
 * {@link dev.ferry.qmp.QmpException}. The client sends only typed commands
 * ({@link dev.ferry.qmp.QmpCommand}), named as in QEMU's QAPI schema, one file each, in packages by
 * concept: {@code block} (nodes, mirror jobs, dirty bitmaps), {@code export} (the NBD server and
 * its exports), {@code migration} and {@code machine} (run state, quit, memory dumps). The
 * connection's internals (reader, writer, pending calls, event dispatch) are package-private.
 */
package dev.ferry.qmp;
