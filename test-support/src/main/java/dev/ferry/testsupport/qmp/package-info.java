/**
 * QMP commands only tests send: pausing the guest behind the agent's back, reading its RAM size,
 * writing through {@code qemu-io} over HMP, rotating dirty bitmaps in a transaction. Product code
 * sends its commands from {@code dev.ferry.qmp}'s packages.
 */
package dev.ferry.testsupport.qmp;
