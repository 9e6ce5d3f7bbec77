-- identity column: the PostgreSQL spelling of SQLite's INTEGER PRIMARY KEY AUTOINCREMENT
CREATE TABLE events (
  id      BIGINT       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time_ms BIGINT       NOT NULL,
  kind    VARCHAR(32)  NOT NULL,
  subject VARCHAR(128) NOT NULL,
  data    TEXT         NOT NULL
);
