-- Metering (package metering): the stored 15-minute series of every transaction, the
-- transactions whose series must be rebuilt, an account's HT/NT calendar and imported
-- external series. Conventions as in 0001_init.sql: {{id}} is the auto-assigned key, times
-- are Unix milliseconds in UTC, 0 none; energy in Wh.

-- A transaction whose series is out of date. The store marks it in the same database
-- transaction as the meter values, start or stop that caused it. transaction_id is not a
-- foreign key: MeterValues may name a transaction the store does not know (yet), and
-- transaction ids are only unique with the station that sent them. generation grows with
-- every mark, so that clearing the mark after a rebuild keeps one made meanwhile.
CREATE TABLE series_pending (
	station_id BIGINT NOT NULL REFERENCES stations (id),
	transaction_id BIGINT NOT NULL,
	generation BIGINT NOT NULL,
	marked_at BIGINT NOT NULL, -- Unix ms of the first mark since the series was last built
	PRIMARY KEY (station_id, transaction_id)
);
CREATE INDEX series_pending_marked ON series_pending (marked_at);

-- One quarter hour of one transaction's series. Quarter hours without energy or readings
-- (metering.Missing with 0 Wh) are not stored.
CREATE TABLE energy_intervals (
	transaction_id BIGINT NOT NULL REFERENCES transactions (id),
	interval_start BIGINT NOT NULL, -- Unix ms, a UTC quarter hour
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	station_id BIGINT NOT NULL REFERENCES stations (id),
	connector_id INTEGER NOT NULL,
	energy_wh BIGINT NOT NULL,
	quality SMALLINT NOT NULL, -- metering.Quality: 0 missing, 1 measured, 2 interpolated, 3 estimated
	PRIMARY KEY (transaction_id, interval_start)
);
CREATE INDEX energy_intervals_account ON energy_intervals (account_id, interval_start);
CREATE INDEX energy_intervals_station ON energy_intervals (station_id, interval_start);

-- An account's weekly high-tariff windows, read and written whole.
CREATE TABLE metering_calendars (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
	windows TEXT NOT NULL, -- JSON array of {"day": "Monday", "from": "07:00", "to": "20:00"}
	updated_at BIGINT NOT NULL
);

-- Imported series (a building's PV production, its total consumption), by name.
CREATE TABLE external_intervals (
	account_id BIGINT NOT NULL REFERENCES accounts (id),
	name TEXT NOT NULL,
	interval_start BIGINT NOT NULL, -- Unix ms, a UTC quarter hour
	energy_wh BIGINT NOT NULL,
	quality SMALLINT NOT NULL, -- metering.Quality
	imported_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, name, interval_start)
);

-- The transactions recorded before series existed get theirs built, oldest first.
INSERT INTO series_pending (station_id, transaction_id, generation, marked_at)
	SELECT station_id, id, 1, 0 FROM transactions;
