-- One typed job queue (src/jobs): the work done after a commit — rendering a letter, fanning
-- an event out to webhooks, sending a webhook delivery, deleting a file, the scheduled payout
-- run — is a row here, enqueued in the transaction of the change that causes it. It replaces
-- the outbox and the webhook deliveries' own claim.
CREATE TABLE jobs (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    -- The account whose data the job concerns ('' for the agency's own work).
    account    TEXT COLLATE "C" NOT NULL,
    -- At most one waiting job per key (a recurring job's).
    unique_key TEXT   UNIQUE,
    -- Lower runs first: 0 for work a change causes now, 1 for backfill (a seed's history).
    priority   INTEGER NOT NULL DEFAULT 0,
    -- Real time (unix seconds) from which it may run; a claim leases it by moving this on.
    run_at     BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created    BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (priority, run_at, id);
CREATE INDEX jobs_account ON jobs (account);

INSERT INTO jobs (kind, payload, account, run_at, attempts, last_error, created)
SELECT CASE kind WHEN 'letter' THEN 'render_letter' WHEN 'event' THEN 'fan_out_event' ELSE kind END,
       payload, account, next_attempt, attempts, last_error, created
FROM outbox ORDER BY id;

INSERT INTO jobs (kind, payload, account, run_at, created)
SELECT 'deliver_webhook', json_build_object('delivery', id, 'webhook', webhook)::text, account, next_attempt, created
FROM webhook_deliveries WHERE next_attempt IS NOT NULL ORDER BY created, id;

DROP TABLE outbox;
