/**
 * QEMU's built-in NBD server ({@link dev.ferry.qmp.export.NbdServerStart}) and the block exports
 * it serves ({@link dev.ferry.qmp.export.BlockExportAdd},
 * {@link dev.ferry.qmp.export.QueryBlockExports}).
 */
package dev.ferry.qmp.export;
