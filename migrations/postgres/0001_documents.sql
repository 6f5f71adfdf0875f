-- Every resource table keeps the full wire document (doc) plus typed columns mirroring the
-- fields filters and sorts hit most. Dates are integer seconds since the epoch. Text
-- columns use the "C" collation: byte order, as MongoDB and SQLite compare strings.

CREATE TABLE accounts (
    id      TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    etag    TEXT   NOT NULL,
    doc     JSONB  NOT NULL
);

CREATE TABLE creditors (
    id      TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    etag    TEXT   NOT NULL,
    doc     JSONB  NOT NULL
);
CREATE INDEX creditors_account ON creditors (account, created, id);

CREATE TABLE cases (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    account            TEXT COLLATE "C" NOT NULL,
    creditor           TEXT COLLATE "C" NOT NULL,
    state              TEXT COLLATE "C" NOT NULL,
    status             TEXT COLLATE "C" NOT NULL,
    created            BIGINT NOT NULL,
    updated            BIGINT NOT NULL,
    closed_at          BIGINT,
    invoice_number     TEXT COLLATE "C" NOT NULL,
    customer_id_number TEXT COLLATE "C" NOT NULL,
    etag               TEXT   NOT NULL,
    doc                JSONB  NOT NULL
);
CREATE INDEX cases_creditor_open ON cases (creditor, closed_at NULLS FIRST, created, id);
CREATE INDEX cases_account_created ON cases (account, created, id);
CREATE INDEX cases_account_closed ON cases (account, closed_at NULLS FIRST, id);
CREATE INDEX cases_account_state ON cases (account, state, created);
CREATE INDEX cases_account_status ON cases (account, status, created);
CREATE INDEX cases_creditor_invoice ON cases (creditor, invoice_number);
CREATE INDEX cases_account_id_number ON cases (account, customer_id_number);

CREATE TABLE write_versions (
    tbl     TEXT COLLATE "C" NOT NULL,
    account TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (tbl, account)
);
