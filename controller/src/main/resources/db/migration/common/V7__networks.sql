-- Networks (issue 11): an L2 segment present on every host under one bridge name.
CREATE TABLE networks (
  name   VARCHAR(63) NOT NULL PRIMARY KEY,
  bridge VARCHAR(15) NOT NULL
);

-- A VM's NICs in order; the MAC is unique in the cluster, so a guest is one L2 endpoint wherever it runs.
CREATE TABLE nics (
  vm      VARCHAR(63) NOT NULL REFERENCES vms (name) ON DELETE CASCADE,
  idx     INTEGER     NOT NULL,
  network VARCHAR(63) NOT NULL REFERENCES networks (name),
  mac     VARCHAR(17) NOT NULL UNIQUE,
  PRIMARY KEY (vm, idx)
);
