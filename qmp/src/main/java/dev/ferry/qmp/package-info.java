/**
 * A client for the QEMU Machine Protocol (QMP): JSON commands, replies and events over the UNIX
 * socket of one QEMU process.
 *
 * <p>Start at {@link dev.ferry.qmp.QmpClient}. Typed commands ({@link dev.ferry.qmp.QueryStatus},
 * {@link dev.ferry.qmp.Stop}, ...) are named as in QEMU's QAPI schema, one file each, and every
 * failure is a {@link dev.ferry.qmp.QmpException}.
 */
package dev.ferry.qmp;
