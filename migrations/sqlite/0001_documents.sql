-- Every resource table keeps the full wire document (doc) plus typed columns mirroring the
-- fields filters and sorts hit most. Dates are integer seconds since the epoch.

CREATE TABLE accounts (
    id      TEXT    NOT NULL UNIQUE,
    account TEXT    NOT NULL,           -- = id; lets scoping treat every table alike
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    etag    TEXT    NOT NULL,
    doc     TEXT    NOT NULL
);

CREATE TABLE creditors (
    id      TEXT    NOT NULL UNIQUE,
    account TEXT    NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    etag    TEXT    NOT NULL,
    doc     TEXT    NOT NULL
);
CREATE INDEX creditors_account ON creditors (account, created, id);

CREATE TABLE cases (
    id                 TEXT    NOT NULL UNIQUE,
    account            TEXT    NOT NULL,
    creditor           TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    created            INTEGER NOT NULL,
    updated            INTEGER NOT NULL,
    closed_at          INTEGER,            -- closed.close_date; NULL exactly when open
    invoice_number     TEXT    NOT NULL,
    customer_id_number TEXT    NOT NULL,
    etag               TEXT    NOT NULL,
    doc                TEXT    NOT NULL
);
-- open cases of a creditor, newest first; also closed-since per creditor
CREATE INDEX cases_creditor_open ON cases (creditor, closed_at, created, id);
-- everything of an account by creation; closed-since across an account
CREATE INDEX cases_account_created ON cases (account, created, id);
CREATE INDEX cases_account_closed ON cases (account, closed_at, id);
CREATE INDEX cases_account_state ON cases (account, state, created);
CREATE INDEX cases_account_status ON cases (account, status, created);
CREATE INDEX cases_creditor_invoice ON cases (creditor, invoice_number);
CREATE INDEX cases_account_id_number ON cases (account, customer_id_number);

-- Bumped in the same transaction as every write, per table and account; cached counts are
-- valid while the versions they were computed under are unchanged.
CREATE TABLE write_versions (
    tbl     TEXT    NOT NULL,
    account TEXT    NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tbl, account)
) WITHOUT ROWID;
