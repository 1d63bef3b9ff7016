// Package ocpp is OCPP-J 1.6: the RPC frames (CALL, CALLRESULT, CALLERROR), the typed
// request and response of every 1.6 action, and their validation against the constraints of
// the specification.
//
// It is pure message code: no websocket, no database, no HTTP routing. The transport lives in
// package rpc below it, and what the central system does with a message lives in the domain
// packages.
package ocpp
