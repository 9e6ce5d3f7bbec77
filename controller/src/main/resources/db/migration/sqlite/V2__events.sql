-- AUTOINCREMENT: ids never reuse a deleted row's id, so Last-Event-ID replay stays unambiguous
CREATE TABLE events (
  id      INTEGER      NOT NULL PRIMARY KEY AUTOINCREMENT,
  time_ms BIGINT       NOT NULL,
  kind    VARCHAR(32)  NOT NULL,
  subject VARCHAR(128) NOT NULL,
  data    TEXT         NOT NULL
);
