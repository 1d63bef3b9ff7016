-- Remote operations (package operation): what the central system asked of its stations and
-- what became of it, and the records the stations' answers change. Conventions as in
-- 0001_init.sql: {{id}} is the auto-assigned key, times are Unix milliseconds in UTC, 0 none.

CREATE TABLE operations (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	station_id BIGINT NOT NULL REFERENCES stations (id),
	action TEXT NOT NULL,
	actor TEXT NOT NULL,
	request TEXT NOT NULL, -- the payload sent
	requested_at BIGINT NOT NULL,
	status TEXT NOT NULL, -- operation.Status
	response TEXT NOT NULL, -- the station's response payload; '' none
	failure TEXT NOT NULL, -- operation.Failure; '' none
	error_code TEXT NOT NULL,
	error_description TEXT NOT NULL,
	finished_at BIGINT NOT NULL -- 0 while pending
);
CREATE INDEX operations_account ON operations (account_id, id);
CREATE INDEX operations_station ON operations (station_id, id);

-- The last known configuration of each station.
CREATE TABLE station_configuration (
	station_id BIGINT NOT NULL REFERENCES stations (id),
	config_key TEXT NOT NULL,
	value TEXT NOT NULL,
	readonly BOOLEAN NOT NULL,
	is_unknown BOOLEAN NOT NULL, -- the station answered unknownKey
	reboot_required BOOLEAN NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (station_id, config_key)
);

CREATE TABLE reservations (
	id {{id}},
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	station_id BIGINT NOT NULL REFERENCES stations (id),
	reservation_id INTEGER NOT NULL, -- the OCPP reservationId
	connector_id INTEGER NOT NULL,
	id_tag TEXT NOT NULL,
	parent_id_tag TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	state TEXT NOT NULL, -- operation.ReservationState as stored; Expired is judged on read
	transaction_id BIGINT, -- the transaction that used it; NULL none
	operation_id BIGINT NOT NULL REFERENCES operations (id),
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX reservations_account ON reservations (account_id, id);
CREATE INDEX reservations_station ON reservations (station_id, reservation_id, state);

-- The charging profiles each station has accepted and not dropped.
CREATE TABLE charging_profiles (
	id {{id}},
	station_id BIGINT NOT NULL REFERENCES stations (id),
	connector_id INTEGER NOT NULL,
	charging_profile_id INTEGER NOT NULL,
	stack_level INTEGER NOT NULL,
	purpose TEXT NOT NULL,
	profile TEXT NOT NULL, -- the ChargingProfile as sent, JSON
	operation_id BIGINT NOT NULL REFERENCES operations (id),
	set_at BIGINT NOT NULL
);
CREATE INDEX charging_profiles_station ON charging_profiles (station_id);

CREATE TABLE local_lists (
	station_id BIGINT PRIMARY KEY REFERENCES stations (id),
	version INTEGER, -- as last reported or accepted; NULL unknown
	entries_version INTEGER, -- the version local_list_entries make up; NULL never sent
	updated_at BIGINT NOT NULL
);

CREATE TABLE local_list_entries (
	station_id BIGINT NOT NULL REFERENCES stations (id),
	id_tag_key TEXT NOT NULL, -- id_tag in lower case: idTags compare without case
	id_tag TEXT NOT NULL,
	status TEXT NOT NULL,
	parent_id_tag TEXT NOT NULL,
	expiry_date BIGINT NOT NULL,
	PRIMARY KEY (station_id, id_tag_key)
);

CREATE TABLE firmware_requests (
	id {{id}},
	station_id BIGINT NOT NULL REFERENCES stations (id),
	operation_id BIGINT NOT NULL REFERENCES operations (id),
	location TEXT NOT NULL,
	retrieve_date BIGINT NOT NULL,
	retries INTEGER, -- NULL: not given
	retry_interval INTEGER, -- NULL: not given
	status TEXT NOT NULL,
	is_open BOOLEAN NOT NULL,
	requested_at BIGINT NOT NULL,
	status_at BIGINT NOT NULL
);
CREATE INDEX firmware_requests_station ON firmware_requests (station_id, is_open, id);

CREATE TABLE diagnostics_requests (
	id {{id}},
	station_id BIGINT NOT NULL REFERENCES stations (id),
	operation_id BIGINT NOT NULL REFERENCES operations (id),
	location TEXT NOT NULL,
	start_time BIGINT NOT NULL,
	stop_time BIGINT NOT NULL,
	file_name TEXT NOT NULL,
	status TEXT NOT NULL,
	is_open BOOLEAN NOT NULL,
	requested_at BIGINT NOT NULL,
	status_at BIGINT NOT NULL
);
CREATE INDEX diagnostics_requests_station ON diagnostics_requests (station_id, is_open, id);
