-- Issue 24: notes an operator writes on a case in the console (who wrote what, when). Plain
-- rows, not part of the case document: a note never changes a case, and is never changed
-- or deleted except with the case (a sandbox reset, the retention purge).
CREATE TABLE case_notes (
    id       TEXT   PRIMARY KEY,
    account  TEXT   NOT NULL,
    case_id  TEXT   NOT NULL,
    author   TEXT   NOT NULL,
    text     TEXT   NOT NULL,
    created  BIGINT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (account, case_id, created);
