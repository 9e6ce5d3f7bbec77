-- Every mutating call, refused ones included; written by the REST layer after the answer is known.
CREATE TABLE audit (
  id      BIGINT        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at_ms   BIGINT        NOT NULL,
  actor   VARCHAR(80)   NOT NULL,
  action  VARCHAR(64)   NOT NULL,
  target  VARCHAR(256),
  outcome VARCHAR(16)   NOT NULL,
  status  INTEGER       NOT NULL,
  detail  VARCHAR(1024)
);
CREATE INDEX audit_actor ON audit (actor, id);
