-- Fault tolerance (issue 12): one row per VM under protection, from ft enable until disable ends.
-- phase is the runner's persisted phase (compare-and-set, forward only); record is the JSON of
-- what the phases learned (the secondary's ports, failovers, the last reason).
CREATE TABLE ft_protections (
  vm                     VARCHAR(63)  NOT NULL PRIMARY KEY REFERENCES vms (name) ON DELETE CASCADE,
  phase                  VARCHAR(32)  NOT NULL,
  primary_host           VARCHAR(63)  NOT NULL,
  secondary_host         VARCHAR(63)  NOT NULL,
  checkpoint_interval_ms INTEGER      NOT NULL,
  record                 TEXT         NOT NULL,
  created_ms             BIGINT       NOT NULL,
  updated_ms             BIGINT       NOT NULL
);
