-- API codes are stored only as SHA-256 hashes (hex), as access tokens are: someone who can
-- read the database (or a backup of it) cannot sign in with what they find there.
-- `hashed` marks the rows already hashed; the server hashes the older rows when it opens
-- the database (SQLite has no SHA-256 in SQL).
ALTER TABLE api_credentials RENAME COLUMN api_code TO api_code_hash;
ALTER TABLE access_tokens RENAME COLUMN api_code TO api_code_hash;
ALTER TABLE api_credentials ADD COLUMN hashed INTEGER NOT NULL DEFAULT 0;
