-- Access groups, users and customers (amili-api.md §4.15–§4.17), and named counters.
-- `creditor` is the creditor a document belongs to, NULL for account-level documents.

CREATE TABLE access_groups (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT,
    type     TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX access_groups_account ON access_groups (account, creditor, type);

CREATE TABLE users (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX users_account ON users (account, creditor, created, id);

-- One customer per (account, id_number); registrations upsert them.
CREATE TABLE customers (
    id         TEXT    NOT NULL UNIQUE,
    account    TEXT    NOT NULL,
    id_number  TEXT    NOT NULL,
    name_lower TEXT    NOT NULL,
    email_lower TEXT,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    etag       TEXT    NOT NULL,
    doc        TEXT    NOT NULL
);
CREATE UNIQUE INDEX customers_account_id_number ON customers (account, id_number);
CREATE INDEX customers_account_created ON customers (account, created, id);

-- Monotonic numbers (creditor_number, ...), taken inside the writing transaction.
CREATE TABLE counters (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
