-- API users' credentials and issued access tokens. Never served through the Eve layer.
CREATE TABLE api_credentials (
    api_code       TEXT COLLATE "C" PRIMARY KEY,
    user_id        TEXT COLLATE "C" NOT NULL,
    account        TEXT COLLATE "C" NOT NULL,
    creditor       TEXT COLLATE "C",
    algorithm      TEXT   NOT NULL,
    public_key_pem TEXT   NOT NULL,
    created        BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    api_code   TEXT COLLATE "C" NOT NULL,
    account    TEXT COLLATE "C" NOT NULL,
    creditor   TEXT COLLATE "C",
    expires    BIGINT NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires);
