// Package loadtest measures a chargebook server under load and reports figures: how many
// acknowledged, persisted OCPP calls a second it answers for a MeterValues-heavy mix, with
// their round-trip times, and how much memory it needs per connected idle station. It is run
// by `chargebook load`, which may spawn the server and spread the stations over several
// worker processes (one process may hold only about 20,000 open files).
//
// The generator is made to be cheap on CPU, since it shares the machine with the server:
// one goroutine per station, frames built with byte appends rather than encoding/json, and
// replies checked by their prefix. Its stations are not realistic chargers (package
// simulator is), and it is not a test: it prints what it measured and leaves the verdict to
// the reader.
package loadtest
