-- API tokens of the REST API: only the SHA-256 of each secret is kept (account.HashToken),
-- and every request looks its token up by that hash, hence the unique index. Times as in
-- 0001: BIGINT Unix milliseconds in UTC, 0 for never.

CREATE TABLE api_tokens (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name TEXT NOT NULL,
	prefix TEXT NOT NULL, -- the start of the secret, for listings
	token_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the secret, lower-case hex
	created_at BIGINT NOT NULL, -- Unix ms
	last_used_at BIGINT NOT NULL DEFAULT 0, -- Unix ms; 0 never; kept to about a minute
	revoked_at BIGINT NOT NULL DEFAULT 0 -- Unix ms; 0 live
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);
