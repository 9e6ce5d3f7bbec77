-- Inventory of one cluster. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Times are epoch milliseconds (BIGINT) so both databases compare them the same way.

CREATE TABLE hosts (
  name              VARCHAR(63)   NOT NULL PRIMARY KEY,
  url               VARCHAR(2048) NOT NULL,
  state             VARCHAR(16)   NOT NULL,
  last_heartbeat_ms BIGINT        NOT NULL,
  cpus              INTEGER       NOT NULL,
  memory_bytes      BIGINT        NOT NULL,
  qemu_version      VARCHAR(64),
  accelerator       VARCHAR(16)
);

CREATE TABLE pools (
  name           VARCHAR(63)   NOT NULL,
  host           VARCHAR(63)   NOT NULL REFERENCES hosts (name),
  path           VARCHAR(4096) NOT NULL,
  shared         BOOLEAN       NOT NULL,
  capacity_bytes BIGINT        NOT NULL DEFAULT 0,
  free_bytes     BIGINT        NOT NULL DEFAULT 0,
  PRIMARY KEY (name, host)
);

-- a VM has exactly one owning host: the primary key is the name alone and host is NOT NULL
CREATE TABLE vms (
  name                   VARCHAR(63) NOT NULL PRIMARY KEY,
  host                   VARCHAR(63) NOT NULL REFERENCES hosts (name),
  spec                   TEXT        NOT NULL,
  state                  VARCHAR(16) NOT NULL,
  cpus                   INTEGER     NOT NULL,
  memory_requested_bytes BIGINT      NOT NULL,
  memory_given_bytes     BIGINT      NOT NULL,
  memory_adjustment      TEXT,
  machine_type           VARCHAR(64),
  cpu_model              VARCHAR(64),
  accelerator            VARCHAR(16),
  pid                    BIGINT
);

CREATE INDEX vms_host ON vms (host);

CREATE TABLE disks (
  vm               VARCHAR(63)   NOT NULL REFERENCES vms (name) ON DELETE CASCADE,
  id               VARCHAR(16)   NOT NULL,
  pool             VARCHAR(63),
  format           VARCHAR(8)    NOT NULL,
  path             VARCHAR(4096) NOT NULL,
  size_bytes       BIGINT        NOT NULL,
  -- only images Ferry made are deleted with the VM; a user's boot image is left alone
  created_by_ferry BOOLEAN       NOT NULL,
  PRIMARY KEY (vm, id)
);
