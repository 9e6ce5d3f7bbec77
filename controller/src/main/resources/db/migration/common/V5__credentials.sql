-- Who may call the controller. Only SHA-256 hashes of secrets are stored: a copy of the database
-- gives no token and no host credential. A hash is unique so that one lookup finds the holder.
CREATE TABLE tokens (
  name       VARCHAR(63) NOT NULL PRIMARY KEY,
  role       VARCHAR(16) NOT NULL,
  sha256     CHAR(64)    NOT NULL UNIQUE,
  created_ms BIGINT      NOT NULL
);

-- One credential per host: a host can only speak (heartbeat) for itself. No foreign key to hosts:
-- a host is enrolled before its first heartbeat creates its row.
CREATE TABLE host_credentials (
  host       VARCHAR(63) NOT NULL PRIMARY KEY,
  sha256     CHAR(64)    NOT NULL UNIQUE,
  created_ms BIGINT      NOT NULL
);
