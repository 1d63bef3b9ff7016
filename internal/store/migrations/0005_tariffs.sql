-- Prices (package billing): tariffs in versions, the price plans that give them to the public,
-- user groups and users, and the cost of every transaction with its lines. Conventions as in
-- 0001_init.sql: {{id}} is the auto-assigned key, times are Unix milliseconds in UTC, 0 none.
-- Amounts are integers: totals and lines in minor units of the currency (Rappen), prices per
-- unit in millionths of the main unit (package tariff's Micros), VAT rates in basis points.

CREATE TABLE tariffs (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name TEXT NOT NULL,
	currency TEXT NOT NULL, -- ISO 4217
	created_at BIGINT NOT NULL,
	retired_at BIGINT NOT NULL -- 0: in use
);
CREATE INDEX tariffs_account ON tariffs (account_id, id);

-- A version is written once and never updated: sessions are priced by the version in force
-- when they started, and keep pointing to it.
CREATE TABLE tariff_versions (
	tariff_id BIGINT NOT NULL REFERENCES tariffs (id),
	version INTEGER NOT NULL, -- 1, 2, ...
	valid_from BIGINT NOT NULL, -- 0: always
	rules TEXT NOT NULL, -- the tariff.Tariff as JSON (OCPI 2.2.1 shape, exact decimals)
	created_at BIGINT NOT NULL,
	PRIMARY KEY (tariff_id, version)
);

-- user_id and group_id are those of package access (0004), but not foreign keys: a plan
-- outlives neither, yet prices must not stop a user or group from being deleted.
CREATE TABLE price_plans (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	tariff_id BIGINT NOT NULL REFERENCES tariffs (id),
	audience TEXT NOT NULL, -- tariff.Audience: PUBLIC, GROUP, USER
	user_id BIGINT NOT NULL, -- USER; 0 otherwise
	group_id BIGINT NOT NULL, -- GROUP; 0 otherwise
	station_id BIGINT REFERENCES stations (id), -- NULL: every station of the account
	valid_from BIGINT NOT NULL, -- 0: unbounded
	valid_to BIGINT NOT NULL, -- 0: unbounded
	created_at BIGINT NOT NULL,
	deleted_at BIGINT NOT NULL -- 0: live; rows stay, since costs name them
);
CREATE INDEX price_plans_account ON price_plans (account_id, id);

-- One row per transaction, written when it starts (status open, or unpriced when no plan
-- applies) and completed when it stops (final, or unpriced with the reason).
CREATE TABLE session_costs (
	transaction_id BIGINT PRIMARY KEY REFERENCES transactions (id),
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	status TEXT NOT NULL, -- billing.Status: open, final, unpriced
	reason TEXT NOT NULL, -- why unpriced; '' otherwise
	user_id BIGINT NOT NULL, -- the driver's user at the start; 0 none
	plan_id BIGINT REFERENCES price_plans (id), -- the plan that priced it; NULL none
	tariff_id BIGINT, -- with tariff_version, the version that priced it; NULL none
	tariff_version INTEGER,
	currency TEXT NOT NULL, -- '' while not priced
	total_net BIGINT NOT NULL,
	total_vat BIGINT NOT NULL,
	total_gross BIGINT NOT NULL,
	rounding BIGINT NOT NULL,
	payable BIGINT NOT NULL,
	energy_wh BIGINT NOT NULL,
	duration_s BIGINT NOT NULL,
	charging_s BIGINT NOT NULL,
	parking_s BIGINT NOT NULL,
	idle_s BIGINT NOT NULL,
	recorded_at BIGINT NOT NULL,
	priced_at BIGINT NOT NULL, -- 0 while open
	FOREIGN KEY (tariff_id, tariff_version) REFERENCES tariff_versions (tariff_id, version)
);
CREATE INDEX session_costs_account ON session_costs (account_id, transaction_id);

-- The plans that may price a transaction, with the tariff version in force at its start.
CREATE TABLE session_cost_candidates (
	transaction_id BIGINT NOT NULL REFERENCES session_costs (transaction_id),
	plan_id BIGINT NOT NULL REFERENCES price_plans (id),
	tariff_id BIGINT NOT NULL,
	tariff_version INTEGER NOT NULL,
	PRIMARY KEY (transaction_id, plan_id),
	FOREIGN KEY (tariff_id, tariff_version) REFERENCES tariff_versions (tariff_id, version)
);

CREATE TABLE session_cost_lines (
	transaction_id BIGINT NOT NULL REFERENCES session_costs (transaction_id),
	position INTEGER NOT NULL,
	line_type TEXT NOT NULL, -- tariff.LineType
	element INTEGER NOT NULL, -- index in the tariff's elements; -1 none
	quantity BIGINT NOT NULL, -- Wh, seconds or 1
	unit_price BIGINT NOT NULL, -- Micros per kWh, hour or session, excl. VAT
	vat_rate BIGINT, -- basis points; NULL: no VAT applies
	net BIGINT NOT NULL,
	vat BIGINT NOT NULL,
	gross BIGINT NOT NULL,
	PRIMARY KEY (transaction_id, position)
);
