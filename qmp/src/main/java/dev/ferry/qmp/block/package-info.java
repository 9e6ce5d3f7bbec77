/**
 * Block-layer commands: nodes ({@link dev.ferry.qmp.block.BlockdevAdd},
 * {@link dev.ferry.qmp.block.QueryNamedBlockNodes}), the devices that use them
 * ({@link dev.ferry.qmp.block.QueryBlock}), mirror jobs ({@link dev.ferry.qmp.block.BlockdevMirror},
 * {@link dev.ferry.qmp.block.QueryBlockJobs}, {@link dev.ferry.qmp.block.JobDismiss}) and dirty
 * bitmaps. Arguments follow QEMU 7.2.
 */
package dev.ferry.qmp.block;
