-- Debtor payments from Bankgirot BgMax files (issue 11). Bank files and unmatched payments
-- belong to the agency: their `account` is the agency's (000000000000000000000000).

-- /bank--files: an imported file, known by the SHA-256 of its bytes.
CREATE TABLE bank_files (
    id      TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    sha256  TEXT COLLATE "C" NOT NULL UNIQUE,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    etag    TEXT   NOT NULL,
    doc     JSONB  NOT NULL
);
CREATE INDEX bank_files_account ON bank_files (account, created, id);

-- /payments--unmatched: payments waiting for a person to put them on a case.
CREATE TABLE unmatched_payments (
    id      TEXT COLLATE "C" PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    status  TEXT COLLATE "C" NOT NULL,
    case_id TEXT COLLATE "C",
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    etag    TEXT   NOT NULL,
    doc     JSONB  NOT NULL
);
CREATE INDEX unmatched_payments_account ON unmatched_payments (account, status, created, id);

-- Every payment imported, by (payee bankgiro, payment date, deposit serial, BGC serial):
-- the same payment in a second file is not booked twice.
CREATE TABLE bank_payments (
    key       TEXT COLLATE "C" PRIMARY KEY,
    bank_file TEXT COLLATE "C" NOT NULL
);
