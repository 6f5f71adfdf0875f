-- API users' credentials and issued access tokens. Never served through the Eve layer.
CREATE TABLE api_credentials (
    api_code       TEXT    NOT NULL PRIMARY KEY,
    user_id        TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    creditor       TEXT,               -- NULL: the whole account
    algorithm      TEXT    NOT NULL,
    public_key_pem TEXT    NOT NULL,
    created        INTEGER NOT NULL
);

-- Access tokens are stored only as SHA-256 hashes.
CREATE TABLE access_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    api_code   TEXT    NOT NULL,
    account    TEXT    NOT NULL,
    creditor   TEXT,
    expires    INTEGER NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires);
