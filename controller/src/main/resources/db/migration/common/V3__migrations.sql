-- Migrations as persisted state machines. phase moves forward only (compare-and-set on the old
-- phase); record is the MigrationView JSON (progress and facts) that the API serves as is.
CREATE TABLE migrations (
  id               VARCHAR(36) NOT NULL PRIMARY KEY,
  kind             VARCHAR(16) NOT NULL,
  vm               VARCHAR(63) NOT NULL,
  source           VARCHAR(63) NOT NULL,
  target           VARCHAR(63) NOT NULL,
  status           VARCHAR(16) NOT NULL,
  phase            VARCHAR(32) NOT NULL,
  request          TEXT        NOT NULL,
  record           TEXT        NOT NULL,
  cancel_requested BOOLEAN     NOT NULL,
  created_ms       BIGINT      NOT NULL,
  updated_ms       BIGINT      NOT NULL
);

CREATE INDEX migrations_vm ON migrations (vm, status);
