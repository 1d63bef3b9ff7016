// Package simulator runs simulated OCPP 1.6J charge points against a central system: for
// demos (`chargebook simulate`), for integration tests that drive one station a message at a
// time and then check what the central system kept, and as a realistic background load.
//
// A Station connects, boots, reports its connectors, heartbeats and runs charging sessions
// whose energy register grows with the charging power; it queues its transaction messages
// while offline and delivers them in order after reconnecting (OCPP 1.6 section 3.7), and it
// answers the central system's calls (configuration, resets, remote start and stop, triggers).
// A Fleet runs many stations with a shared configuration.
//
// It is not a load generator (package loadtest sends pre-built frames as fast as the server
// answers) and not a conformance tester: it sends valid messages only.
package simulator
