-- Driver links (package account's DriverLink): personal links an operator gives a driver,
-- and the browser sessions opened with them. Only SHA-256 hashes of the secrets are kept.
-- Times as in 0001: BIGINT Unix milliseconds in UTC, 0 for none.
--
-- user_id names an access_users row but has no foreign key: deleting a driver must not
-- need their links deleted first; a link of a user who no longer exists lets nobody in.
CREATE TABLE driver_links (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	user_id BIGINT NOT NULL,
	link_hash TEXT NOT NULL UNIQUE,
	prefix TEXT NOT NULL,
	created_by BIGINT NOT NULL, -- operator id
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL, -- 0: not revoked
	last_used_at BIGINT NOT NULL -- 0: never opened
);
CREATE INDEX driver_links_user ON driver_links (account_id, user_id);

CREATE TABLE driver_sessions (
	id {{id}},
	link_id BIGINT NOT NULL REFERENCES driver_links (id),
	session_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX driver_sessions_link ON driver_sessions (link_id);
