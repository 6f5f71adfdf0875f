-- Webhooks (issue 12): an account's subscriptions (/webhooks), their signing secrets (never
-- served after the 201 that made them), and every delivery with its attempts
-- (/webhook--deliveries). Events wait in the outbox until they are fanned out.
CREATE TABLE webhooks (
    id       TEXT COLLATE "C" PRIMARY KEY,
    account  TEXT COLLATE "C" NOT NULL,
    creditor TEXT COLLATE "C",
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    etag     TEXT   NOT NULL,
    doc      JSONB  NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account, created, id);

CREATE TABLE webhook_secrets (
    webhook TEXT COLLATE "C" PRIMARY KEY,
    secret  TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           TEXT COLLATE "C" PRIMARY KEY,
    account      TEXT COLLATE "C" NOT NULL,
    creditor     TEXT COLLATE "C",
    webhook      TEXT COLLATE "C" NOT NULL,
    event        TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    next_attempt BIGINT,
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    etag         TEXT   NOT NULL,
    doc          JSONB  NOT NULL
);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account, created, id);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (account, webhook);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt) WHERE next_attempt IS NOT NULL;
