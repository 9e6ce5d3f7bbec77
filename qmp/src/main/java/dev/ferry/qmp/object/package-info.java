/** QMP commands on QOM objects: the TLS credentials and authorization lists of migration and NBD streams. */
package dev.ferry.qmp.object;
