-- The audit trail (issue 13): who (the API user, operator, command or worker, and the request
-- id) wrote what (each document's resource, id and action), when — one row per account and
-- actor per transaction, appended in that transaction. Served at /audit--events. Rows are
-- never changed or deleted.
CREATE TABLE audit_events (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account, created, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
