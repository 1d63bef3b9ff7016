// Package rpc is the OCPP-J RPC layer over one websocket connection, for both ends: the central
// system wraps each accepted station connection in a Conn, and the station simulator and load
// tool Dial one. It sends CALLs and matches their CALLRESULT or CALLERROR by message id, answers
// incoming CALLs with a Handler, enforces the one-outstanding-CALL-per-direction rule of OCPP-J,
// and watches the connection with per-call timeouts, a frame size limit and websocket pings.
//
// It moves frames, not meanings: payloads stay raw JSON, to be decoded and validated with
// package ocpp by the caller. It does not accept HTTP requests or route stations (the central
// system's HTTP handler does, using AcceptOptions and NewConn), and it does not reconnect.
//
// A Conn is sized for many idle connections: while idle it costs one goroutine (Serve's read
// loop) and no buffers of its own; pings run on timers, writes go straight to the websocket,
// and frame buffers are pooled.
package rpc
