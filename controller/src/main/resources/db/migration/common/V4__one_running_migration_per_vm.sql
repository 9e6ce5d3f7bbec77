-- At most one running migration per VM, enforced by the database itself rather than only by a
-- lock in one controller's memory (issue 9 B7). Partial unique indexes exist in SQLite (3.8) and
-- PostgreSQL alike; the literal is MigrationStatus.RUNNING as MigrationStore writes it.
CREATE UNIQUE INDEX migrations_one_running_per_vm ON migrations (vm) WHERE status = 'running';
