-- The portal: log-in sessions of operators, and the passwords stations present with OCPP
-- Basic authentication. Times as in 0001: BIGINT Unix milliseconds in UTC.

-- Only the SHA-256 of a session's secret is kept (account.HashToken); the secret is in the
-- browser's cookie.
CREATE TABLE portal_sessions (
	id {{id}},
	operator_id BIGINT NOT NULL REFERENCES operators (id),
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	session_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL, -- Unix ms
	expires_at BIGINT NOT NULL -- Unix ms
);
CREATE INDEX portal_sessions_operator ON portal_sessions (operator_id);

-- A station with a row here must connect with Authorization: Basic <chargePointId>:<password>.
-- The passwords are random secrets the portal makes (as API tokens are), so their SHA-256 is
-- enough and the check on every connection stays cheap.
CREATE TABLE station_passwords (
	station_id BIGINT PRIMARY KEY REFERENCES stations (id),
	password_hash TEXT NOT NULL, -- SHA-256 of the password, lower-case hex
	set_at BIGINT NOT NULL -- Unix ms
);
