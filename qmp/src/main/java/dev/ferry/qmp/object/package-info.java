/**
 * QMP commands on QOM objects and character devices: the TLS credentials and authorization lists
 * of migration and NBD streams, and the filters, colo-compare and socket links of COLO's network
 * proxy.
 */
package dev.ferry.qmp.object;
