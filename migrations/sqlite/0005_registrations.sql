-- Case registrations (amili-api.md §4.1), their OCR references, and idempotency keys.

CREATE TABLE case_registrations (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);
CREATE INDEX case_registrations_account ON case_registrations (account, creditor, created, id);

-- One OCR reference per case; unique across the database.
CREATE TABLE ocr_numbers (
    id       TEXT    NOT NULL UNIQUE,
    account  TEXT    NOT NULL,
    creditor TEXT    NOT NULL,
    ocr      TEXT    NOT NULL UNIQUE,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT    NOT NULL,
    doc      TEXT    NOT NULL
);

-- A POST with an Idempotency-Key: the first request's body hash and answer.
CREATE TABLE idempotency_keys (
    account      TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER,
    response     TEXT,
    created      INTEGER NOT NULL,
    PRIMARY KEY (account, key)
) WITHOUT ROWID;
