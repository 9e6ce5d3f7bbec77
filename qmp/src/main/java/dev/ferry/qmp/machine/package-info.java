/**
 * The machine as a whole: its run state ({@link dev.ferry.qmp.machine.QueryStatus},
 * {@link dev.ferry.qmp.machine.Cont}), ending it ({@link dev.ferry.qmp.machine.SystemPowerdown},
 * {@link dev.ferry.qmp.machine.Quit}) and dumping its RAM ({@link dev.ferry.qmp.machine.Pmemsave}).
 */
package dev.ferry.qmp.machine;
