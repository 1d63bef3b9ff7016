// Package ocpp is OCPP-J 1.6: the RPC frames (CALL, CALLRESULT, CALLERROR), the typed
// request and response of every 1.6 action, those of the security extension included, and
// their validation against the constraints of the specification.
//
// ParseFrame reads a frame; DecodeRequest and DecodeResponse turn its payload into a typed
// value, or into the *Error to answer with; EncodePayload turns a typed value back into a
// payload, validated, and the Append functions frame it. The constraints are derived from the
// Go types (see schema.go), so the types are the one place that says what a message may
// hold; the tests hold them to the official JSON schemas, which the package never reads.
// Lenient mode lets through, with warnings, what real chargers are known to get wrong.
//
// It is pure message code: no websocket, no database, no HTTP routing. The transport lives in
// package rpc below it, and what the central system does with a message lives in the domain
// packages.
package ocpp
