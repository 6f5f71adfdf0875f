-- Access groups, users and customers (amili-api.md §4.15–§4.17), and named counters.
-- `creditor` is the creditor a document belongs to, NULL for account-level documents.

CREATE TABLE access_groups (
    id       TEXT COLLATE "C" PRIMARY KEY,
    account  TEXT COLLATE "C" NOT NULL,
    creditor TEXT COLLATE "C",
    type     TEXT COLLATE "C" NOT NULL,
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    etag     TEXT   NOT NULL,
    doc      JSONB  NOT NULL
);
CREATE INDEX access_groups_account ON access_groups (account, creditor, type);

CREATE TABLE users (
    id       TEXT COLLATE "C" PRIMARY KEY,
    account  TEXT COLLATE "C" NOT NULL,
    creditor TEXT COLLATE "C",
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    etag     TEXT   NOT NULL,
    doc      JSONB  NOT NULL
);
CREATE INDEX users_account ON users (account, creditor, created, id);

-- One customer per (account, id_number); registrations upsert them.
CREATE TABLE customers (
    id         TEXT COLLATE "C" PRIMARY KEY,
    account    TEXT COLLATE "C" NOT NULL,
    id_number  TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    email_lower TEXT COLLATE "C",
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL,
    etag       TEXT   NOT NULL,
    doc        JSONB  NOT NULL
);
CREATE UNIQUE INDEX customers_account_id_number ON customers (account, id_number);
CREATE INDEX customers_account_created ON customers (account, created, id);

-- Monotonic numbers (creditor_number, ...), taken inside the writing transaction.
CREATE TABLE counters (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);
