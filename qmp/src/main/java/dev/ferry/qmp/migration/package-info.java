/**
 * Live migration on either side: capabilities and parameters, {@link dev.ferry.qmp.migration.Migrate}
 * and {@link dev.ferry.qmp.migration.MigrateIncoming}, the post-copy switch and its recovery, and
 * {@link dev.ferry.qmp.migration.QueryMigrate} with its statistics.
 */
package dev.ferry.qmp.migration;
