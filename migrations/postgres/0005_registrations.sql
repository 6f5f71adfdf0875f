-- Case registrations (amili-api.md §4.1), their OCR references, and idempotency keys.

CREATE TABLE case_registrations (
    id       TEXT COLLATE "C" PRIMARY KEY,
    account  TEXT COLLATE "C" NOT NULL,
    creditor TEXT COLLATE "C" NOT NULL,
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    etag     TEXT   NOT NULL,
    doc      JSONB  NOT NULL
);
CREATE INDEX case_registrations_account ON case_registrations (account, creditor, created, id);

-- One OCR reference per case; unique across the database.
CREATE TABLE ocr_numbers (
    id       TEXT COLLATE "C" PRIMARY KEY,
    account  TEXT COLLATE "C" NOT NULL,
    creditor TEXT COLLATE "C" NOT NULL,
    ocr      TEXT COLLATE "C" NOT NULL UNIQUE,
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    etag     TEXT   NOT NULL,
    doc      JSONB  NOT NULL
);

-- A POST with an Idempotency-Key: the first request's body hash and answer.
CREATE TABLE idempotency_keys (
    account      TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE "C" NOT NULL,
    request_hash TEXT   NOT NULL,
    status       INTEGER,
    response     TEXT,
    created      BIGINT NOT NULL,
    PRIMARY KEY (account, key)
);
