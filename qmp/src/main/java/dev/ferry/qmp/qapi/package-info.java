/**
 * QAPI values for command classes: {@link dev.ferry.qmp.qapi.ArgumentMap} writes a command's
 * arguments in schema order, {@link dev.ferry.qmp.qapi.Members} reads the members of a return
 * value and names the one that is missing. Not for callers of the client.
 */
package dev.ferry.qmp.qapi;
