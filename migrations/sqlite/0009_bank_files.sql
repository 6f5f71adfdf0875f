-- Debtor payments from Bankgirot BgMax files (issue 11). Bank files and unmatched payments
-- belong to the agency: their `account` is the agency's (000000000000000000000000).

-- /bank--files: an imported file, known by the SHA-256 of its bytes.
CREATE TABLE bank_files (
    id      TEXT    NOT NULL UNIQUE,
    account TEXT    NOT NULL,
    sha256  TEXT    NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    etag    TEXT    NOT NULL,
    doc     TEXT    NOT NULL
);
CREATE INDEX bank_files_account ON bank_files (account, created, id);

-- /payments--unmatched: payments waiting for a person to put them on a case.
CREATE TABLE unmatched_payments (
    id      TEXT    NOT NULL UNIQUE,
    account TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    case_id TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    etag    TEXT    NOT NULL,
    doc     TEXT    NOT NULL
);
CREATE INDEX unmatched_payments_account ON unmatched_payments (account, status, created, id);

-- Every payment imported, by (payee bankgiro, payment date, deposit serial, BGC serial):
-- the same payment in a second file is not booked twice.
CREATE TABLE bank_payments (
    key       TEXT NOT NULL PRIMARY KEY,
    bank_file TEXT NOT NULL
) WITHOUT ROWID;
