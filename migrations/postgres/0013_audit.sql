-- The audit trail (issue 13): who (the API user, operator, command or worker, and the request
-- id) wrote what (each document's resource, id and action), when — one row per account and
-- actor per transaction, appended in that transaction. Served at /audit--events. Rows are
-- never changed or deleted.
CREATE TABLE audit_events (
    id       TEXT    COLLATE "C" NOT NULL UNIQUE,
    account  TEXT    COLLATE "C" NOT NULL,
    created  BIGINT  NOT NULL,
    updated  BIGINT  NOT NULL,
    etag     TEXT    NOT NULL,
    doc      JSONB   NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account, created, id);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
