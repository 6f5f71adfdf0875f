-- The audit trail (issue 13): one row per document written — who (the API user, operator,
-- command or worker, and the request id), when, what (resource, id, action) — appended in the
-- transaction of the write. Served at /audit--events. Rows are never changed or deleted.
CREATE TABLE audit_events (
    id       TEXT    COLLATE "C" NOT NULL UNIQUE,
    account  TEXT    COLLATE "C" NOT NULL,
    resource TEXT    COLLATE "C" NOT NULL,
    item     TEXT    COLLATE "C" NOT NULL,
    created  BIGINT  NOT NULL,
    updated  BIGINT  NOT NULL,
    etag     TEXT    NOT NULL,
    doc      JSONB   NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account, created, id);
CREATE INDEX audit_events_item ON audit_events (account, item);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
