-- The flow engine (issue 10): when each open case next needs the worker, per-account
-- clocks, creditor policies and flow configurations, letters, and the outbox of work done
-- after a case's transaction commits.

-- When an open case next has something due (its flow item, or an interest posting), in the
-- time of its account's clock; NULL for closed cases. Not a document field.
ALTER TABLE cases ADD COLUMN due_at INTEGER;
CREATE INDEX cases_due ON cases (account, due_at) WHERE due_at IS NOT NULL;

-- A sandbox account's clock: NULL follows real time; set, it stands still until moved.
CREATE TABLE account_clocks (
    account TEXT    NOT NULL PRIMARY KEY,
    sandbox INTEGER NOT NULL,
    now     INTEGER
) WITHOUT ROWID;
INSERT INTO account_clocks (account, sandbox, now)
    SELECT id, 1, NULL FROM accounts WHERE id = '674dbeaf08847b9501cc9132';

-- What the agency agreed with a creditor (fees, allocation order, flow configuration).
-- A creditor without a row has the default policy.
CREATE TABLE creditor_policies (
    creditor TEXT    NOT NULL PRIMARY KEY,
    account  TEXT    NOT NULL,
    updated  INTEGER NOT NULL,
    doc      TEXT    NOT NULL
) WITHOUT ROWID;
INSERT INTO creditor_policies (creditor, account, updated, doc)
    SELECT id, account, created, '{"fees":{"collection_fee":0.0}}'
    FROM creditors WHERE id = '674dbeb208847b9501cc9138';

-- Flow configurations besides the built-in default.
CREATE TABLE flow_configs (
    id      TEXT    NOT NULL PRIMARY KEY,
    created INTEGER NOT NULL,
    doc     TEXT    NOT NULL
) WITHOUT ROWID;

-- Letters the flow sent (/case--letters).
CREATE TABLE case_letters (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT    NOT NULL,
    case_id  TEXT    NOT NULL,
    type     TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX case_letters_account ON case_letters (account, creditor, created, id);
CREATE INDEX case_letters_case ON case_letters (account, case_id, created);

-- Work to do after a commit (rendering a letter, …), written in the same transaction as
-- the change that caused it; a row is deleted when its work is done.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    created      INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT
);
CREATE INDEX outbox_next ON outbox (next_attempt, id);

-- The case an OCR reference pays (letters print it; bank files are matched through it).
ALTER TABLE ocr_numbers ADD COLUMN case_id TEXT;
UPDATE ocr_numbers SET case_id = json_extract(doc, '$.case');
CREATE INDEX ocr_numbers_case ON ocr_numbers (case_id);
