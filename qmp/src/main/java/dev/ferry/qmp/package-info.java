/**
 * A client for the QEMU Machine Protocol (QMP): JSON commands, replies and events over the UNIX
 * socket of one QEMU process.
 *
 * <p>Start at {@link dev.ferry.qmp.QmpClient}. Typed commands ({@link dev.ferry.qmp.QueryStatus},
 * {@link dev.ferry.qmp.Stop}, ...) are named as in QEMU's QAPI schema, one file each, and every
 * failure is a {@link dev.ferry.qmp.QmpException}. They cover block nodes and jobs
 * ({@link dev.ferry.qmp.BlockdevMirror}, {@link dev.ferry.qmp.QueryBlockJobs}), dirty bitmaps and
 * {@link dev.ferry.qmp.Transaction}, NBD exports ({@link dev.ferry.qmp.NbdServerStart},
 * {@link dev.ferry.qmp.BlockExportAdd}) and migration ({@link dev.ferry.qmp.Migrate},
 * {@link dev.ferry.qmp.QueryMigrate}); their arguments follow QEMU 7.2.
 */
package dev.ferry.qmp;
