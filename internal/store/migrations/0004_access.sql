-- Access rules (packages access and authz): an account's drivers (users), user groups, the
-- user an id tag belongs to, and who may charge at each station and when. Conventions as in
-- 0001_init.sql: {{id}} is the auto-assigned key, times are Unix milliseconds in UTC, 0 none.
-- Weekly windows are JSON arrays of {"days", "start", "end", "exceptDates", "extraDates"}:
-- they are read and written whole, never queried.

CREATE TABLE access_users (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	language TEXT NOT NULL,
	blocked BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX access_users_account ON access_users (account_id);

CREATE TABLE access_groups (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX access_groups_account ON access_groups (account_id);

CREATE TABLE access_group_members (
	group_id BIGINT NOT NULL REFERENCES access_groups (id),
	user_id BIGINT NOT NULL REFERENCES access_users (id),
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX access_group_members_user ON access_group_members (user_id);

-- The user a tag belongs to; NULL for a tag standing alone.
ALTER TABLE id_tags ADD COLUMN user_id BIGINT REFERENCES access_users (id);

-- A station without a row is public (package access's choice for stations without a rule).
CREATE TABLE station_access (
	station_id BIGINT PRIMARY KEY REFERENCES stations (id),
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	mode TEXT NOT NULL, -- access.Mode
	owner_user_id BIGINT REFERENCES access_users (id), -- NULL: no owner
	station_windows TEXT NOT NULL, -- JSON windows; [] at all times
	free_vending BOOLEAN NOT NULL,
	window_end_policy TEXT NOT NULL, -- access.WindowEndPolicy
	updated_at BIGINT NOT NULL
);
CREATE INDEX station_access_account ON station_access (account_id);

-- The grants of a station's rule, in the order the operator gave them; exactly one of
-- user_id and group_id is set.
CREATE TABLE station_access_grants (
	station_id BIGINT NOT NULL REFERENCES stations (id),
	position INTEGER NOT NULL,
	user_id BIGINT REFERENCES access_users (id),
	group_id BIGINT REFERENCES access_groups (id),
	windows TEXT NOT NULL, -- JSON windows; [] at all times
	PRIMARY KEY (station_id, position)
);
CREATE INDEX station_access_grants_user ON station_access_grants (user_id);
CREATE INDEX station_access_grants_group ON station_access_grants (group_id);
