-- Finance (issue 11): the lines each settlement makes (/finance--payout-specifications) and
-- the payouts a payout run groups them into (/finance--payouts).
CREATE TABLE payout_specifications (
    id               TEXT NOT NULL UNIQUE,
    account          TEXT NOT NULL,
    creditor         TEXT NOT NULL,
    case_id          TEXT NOT NULL,
    payout           TEXT,
    finance_category TEXT NOT NULL,
    created          INTEGER NOT NULL,
    updated          INTEGER NOT NULL,
    etag             TEXT NOT NULL,
    doc              TEXT NOT NULL
);
CREATE INDEX payout_specifications_account ON payout_specifications (account, creditor, created, id);
CREATE INDEX payout_specifications_case ON payout_specifications (account, case_id);
CREATE INDEX payout_specifications_payout ON payout_specifications (account, payout);
CREATE INDEX payout_specifications_unpaid ON payout_specifications (creditor) WHERE payout IS NULL;

CREATE TABLE payouts (
    id       TEXT NOT NULL UNIQUE,
    account  TEXT NOT NULL,
    creditor TEXT NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    etag     TEXT NOT NULL,
    doc      TEXT NOT NULL
);
CREATE INDEX payouts_account ON payouts (account, creditor, created, id);
