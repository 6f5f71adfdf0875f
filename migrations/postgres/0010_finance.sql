-- Finance (issue 11): the lines each settlement makes (/finance--payout-specifications) and
-- the payouts a payout run groups them into (/finance--payouts).
CREATE TABLE payout_specifications (
    id               TEXT COLLATE "C" NOT NULL UNIQUE,
    account          TEXT COLLATE "C" NOT NULL,
    creditor         TEXT COLLATE "C" NOT NULL,
    case_id          TEXT COLLATE "C" NOT NULL,
    payout           TEXT COLLATE "C",
    finance_category TEXT COLLATE "C" NOT NULL,
    created          BIGINT NOT NULL,
    updated          BIGINT NOT NULL,
    etag             TEXT NOT NULL,
    doc              JSONB NOT NULL
);
CREATE INDEX payout_specifications_account ON payout_specifications (account, creditor, created, id);
CREATE INDEX payout_specifications_case ON payout_specifications (account, case_id);
CREATE INDEX payout_specifications_payout ON payout_specifications (account, payout);
CREATE INDEX payout_specifications_unpaid ON payout_specifications (creditor) WHERE payout IS NULL;

CREATE TABLE payouts (
    id       TEXT COLLATE "C" NOT NULL UNIQUE,
    account  TEXT COLLATE "C" NOT NULL,
    creditor TEXT COLLATE "C" NOT NULL,
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    etag     TEXT NOT NULL,
    doc      JSONB NOT NULL
);
CREATE INDEX payouts_account ON payouts (account, creditor, created, id);
