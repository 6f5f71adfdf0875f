-- The audit trail (issue 13): one row per document written — who (the API user, operator,
-- command or worker, and the request id), when, what (resource, id, action) — appended in the
-- transaction of the write. Served at /audit--events. Rows are never changed or deleted.
CREATE TABLE audit_events (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    resource TEXT    NOT NULL,
    item     TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account, created, id);
CREATE INDEX audit_events_item ON audit_events (account, item);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
