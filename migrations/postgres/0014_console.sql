-- The operator console (issue 14): the people who sign in at /console, and their sessions.
-- Passwords are stored only as argon2id hashes (PHC strings), session tokens only as SHA-256.
CREATE TABLE console_operators (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,   -- lower case
    password_hash TEXT    NOT NULL,
    account       TEXT,                      -- NULL: the agency (every account)
    creditor      TEXT,                      -- set: this creditor of the account only
    created       BIGINT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE console_sessions (
    token_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    operator   TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created    BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires    BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires);
