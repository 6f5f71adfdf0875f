-- Creditor actions (issue 11): payments the debtor made to the creditor directly,
-- creditings, cancellations and respites, each stored with what came of it.

-- /creditor--payments
CREATE TABLE creditor_payments (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT    NOT NULL,
    case_id  TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX creditor_payments_account ON creditor_payments (account, creditor, created, id);
CREATE INDEX creditor_payments_case ON creditor_payments (account, case_id, created);

-- /creditor--creditings
CREATE TABLE creditor_creditings (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT    NOT NULL,
    case_id  TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX creditor_creditings_account ON creditor_creditings (account, creditor, created, id);
CREATE INDEX creditor_creditings_case ON creditor_creditings (account, case_id, created);

-- /creditor--cancellations
CREATE TABLE creditor_cancellations (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT    NOT NULL,
    case_id  TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX creditor_cancellations_account ON creditor_cancellations (account, creditor, created, id);
CREATE INDEX creditor_cancellations_case ON creditor_cancellations (account, case_id, created);

-- /case--respites
CREATE TABLE case_respites (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT    NOT NULL,
    case_id  TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX case_respites_account ON case_respites (account, creditor, created, id);
CREATE INDEX case_respites_case ON case_respites (account, case_id, created);
