-- Webhooks (issue 12): an account's subscriptions (/webhooks), their signing secrets (never
-- served after the 201 that made them), and every delivery with its attempts
-- (/webhook--deliveries). Events wait in the outbox until they are fanned out.
CREATE TABLE webhooks (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account, created, id);

CREATE TABLE webhook_secrets (
    webhook TEXT NOT NULL PRIMARY KEY,
    secret  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    id           TEXT    NOT NULL UNIQUE,
    account      TEXT    NOT NULL,
    creditor     TEXT,
    webhook      TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    next_attempt INTEGER,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    etag         TEXT    NOT NULL,
    doc          TEXT    NOT NULL
);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account, created, id);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (account, webhook);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE next_attempt IS NOT NULL;
