-- The first schema of chargebook.
--
-- Written once for SQLite and PostgreSQL: {{id}} is the only dialect word, the auto-assigned
-- primary key. Every time is a BIGINT of Unix milliseconds in UTC, and 0 stands for the zero
-- time.Time ("never", "none sent"), so that time columns sort the same way in both databases
-- without NULL ordering rules. Energy is in Wh, meter values in thousandths of their unit.

CREATE TABLE accounts (
	id {{id}},
	account_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	time_zone TEXT NOT NULL,
	currency TEXT NOT NULL,
	approve_new_stations BOOLEAN NOT NULL,
	heartbeat_interval_ms BIGINT NOT NULL,
	station_validation TEXT NOT NULL,
	created_at BIGINT NOT NULL -- Unix ms
);

CREATE TABLE operators (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	email TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	role TEXT NOT NULL,
	created_at BIGINT NOT NULL -- Unix ms
);
CREATE INDEX operators_account ON operators (account_id);

CREATE TABLE stations (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	charge_point_id TEXT NOT NULL,
	registration TEXT NOT NULL,
	validation TEXT NOT NULL,
	vendor TEXT NOT NULL DEFAULT '',
	model TEXT NOT NULL DEFAULT '',
	charge_point_serial TEXT NOT NULL DEFAULT '',
	charge_box_serial TEXT NOT NULL DEFAULT '',
	firmware_version TEXT NOT NULL DEFAULT '',
	iccid TEXT NOT NULL DEFAULT '',
	imsi TEXT NOT NULL DEFAULT '',
	meter_type TEXT NOT NULL DEFAULT '',
	meter_serial TEXT NOT NULL DEFAULT '',
	last_boot_at BIGINT NOT NULL DEFAULT 0, -- Unix ms of the last BootNotification received; 0 never
	last_seen_at BIGINT NOT NULL DEFAULT 0, -- Unix ms of the last message; 0 never
	connected BOOLEAN NOT NULL DEFAULT FALSE,
	connection_changed_at BIGINT NOT NULL DEFAULT 0, -- Unix ms when connected last changed
	created_at BIGINT NOT NULL, -- Unix ms
	UNIQUE (account_id, charge_point_id)
);

-- The current status of each connector: the last StatusNotification received for it.
CREATE TABLE connectors (
	station_id BIGINT NOT NULL REFERENCES stations (id),
	connector_id INTEGER NOT NULL,
	status TEXT NOT NULL,
	error_code TEXT NOT NULL,
	info TEXT NOT NULL,
	vendor_id TEXT NOT NULL,
	vendor_error_code TEXT NOT NULL,
	status_at BIGINT NOT NULL, -- Unix ms, the station's timestamp; 0 when it sent none
	received_at BIGINT NOT NULL, -- Unix ms
	PRIMARY KEY (station_id, connector_id)
);

-- Every StatusNotification, with the message it came in.
CREATE TABLE status_notifications (
	id {{id}},
	station_id BIGINT NOT NULL REFERENCES stations (id),
	connector_id INTEGER NOT NULL,
	status TEXT NOT NULL,
	error_code TEXT NOT NULL,
	info TEXT NOT NULL,
	vendor_id TEXT NOT NULL,
	vendor_error_code TEXT NOT NULL,
	status_at BIGINT NOT NULL, -- Unix ms, the station's timestamp; 0 when it sent none
	received_at BIGINT NOT NULL, -- Unix ms
	action TEXT NOT NULL,
	message_id TEXT NOT NULL,
	payload TEXT NOT NULL
);
CREATE INDEX status_notifications_station ON status_notifications (station_id, received_at);

CREATE TABLE station_events (
	id {{id}},
	station_id BIGINT NOT NULL REFERENCES stations (id),
	kind TEXT NOT NULL,
	note TEXT NOT NULL,
	action TEXT NOT NULL,
	message_id TEXT NOT NULL,
	payload TEXT NOT NULL,
	received_at BIGINT NOT NULL -- Unix ms
);
CREATE INDEX station_events_station ON station_events (station_id, received_at);

CREATE TABLE id_tags (
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	id_tag TEXT NOT NULL,
	parent_id_tag TEXT NOT NULL,
	expires_at BIGINT NOT NULL, -- Unix ms; 0 never
	blocked BOOLEAN NOT NULL,
	known BOOLEAN NOT NULL,
	first_seen_at BIGINT NOT NULL, -- Unix ms; 0 never seen at a station
	last_seen_at BIGINT NOT NULL, -- Unix ms; 0 never seen at a station
	PRIMARY KEY (account_id, id_tag)
);

-- The id is the OCPP transactionId given to the station. Rows are never deleted, so that an
-- id is never given twice (SQLite reuses the largest rowid once it is deleted).
CREATE TABLE transactions (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	station_id BIGINT NOT NULL REFERENCES stations (id),
	connector_id INTEGER NOT NULL,
	id_tag TEXT NOT NULL,
	reservation_id INTEGER, -- NULL: none
	meter_start_wh BIGINT NOT NULL,
	started_at BIGINT NOT NULL, -- Unix ms, the station's timestamp
	stopped BOOLEAN NOT NULL,
	meter_stop_wh BIGINT NOT NULL,
	stopped_at BIGINT NOT NULL, -- Unix ms, the station's timestamp; 0 while open
	stop_reason TEXT NOT NULL,
	stop_id_tag TEXT NOT NULL,
	energy_wh BIGINT, -- NULL: cannot be told
	flags TEXT NOT NULL, -- comma-separated station.Flag values
	reported_transaction_id BIGINT, -- the id an unmatched StopTransaction named; NULL otherwise
	created_at BIGINT NOT NULL, -- Unix ms, when the central system received the first message
	updated_at BIGINT NOT NULL -- Unix ms, when it received the last one that changed the row
);
CREATE INDEX transactions_account_started ON transactions (account_id, started_at);
CREATE INDEX transactions_account_id_tag ON transactions (account_id, id_tag, started_at);
CREATE INDEX transactions_station_started ON transactions (station_id, started_at);
CREATE INDEX transactions_station_open ON transactions (station_id, stopped);
CREATE INDEX transactions_station_reported ON transactions (station_id, reported_transaction_id);

CREATE TABLE transaction_events (
	id {{id}},
	transaction_id BIGINT NOT NULL REFERENCES transactions (id),
	kind TEXT NOT NULL,
	note TEXT NOT NULL,
	action TEXT NOT NULL,
	message_id TEXT NOT NULL,
	payload TEXT NOT NULL,
	received_at BIGINT NOT NULL -- Unix ms
);
CREATE INDEX transaction_events_transaction ON transaction_events (transaction_id);

-- One row per sampled value. transaction_id is not a foreign key: stations send values for
-- transactions the central system does not know (yet).
CREATE TABLE meter_values (
	id {{id}},
	station_id BIGINT NOT NULL REFERENCES stations (id),
	connector_id INTEGER NOT NULL,
	transaction_id BIGINT, -- NULL: not part of a transaction
	sampled_at BIGINT NOT NULL, -- Unix ms, the station's timestamp
	measurand TEXT NOT NULL,
	phase TEXT NOT NULL,
	context TEXT NOT NULL,
	location TEXT NOT NULL,
	format TEXT NOT NULL,
	raw_value TEXT NOT NULL,
	raw_unit TEXT NOT NULL,
	unit TEXT NOT NULL,
	milli BIGINT -- thousandths of unit; NULL for signed data and values that are not numbers
);
CREATE INDEX meter_values_station_time ON meter_values (station_id, sampled_at);
CREATE INDEX meter_values_transaction_time ON meter_values (transaction_id, sampled_at);
