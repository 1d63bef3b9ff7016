package rpc

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// Errors a caller may need to tell apart. They come wrapped with the action or the cause;
// test for them with errors.Is.
var (
	// ErrClosed: the connection ended before the call was answered, or was already closed.
	ErrClosed = errors.New("connection closed")
	// ErrTimeout: the peer did not answer within Options.CallTimeout. The connection stays up;
	// a late answer is dropped.
	ErrTimeout = errors.New("no reply within the call timeout")
	// ErrCallInHandler: a Handler called Call on its own connection. The reply could only be
	// read by the read loop the handler is blocking, so the call would wait for its timeout.
	ErrCallInHandler = errors.New("a handler must not Call its own connection")
	// ErrPingTimeout: the peer sent nothing, not even a pong, within Options.PingTimeout of a
	// ping; the connection was closed as dead.
	ErrPingTimeout = errors.New("peer did not answer ping")
	// ErrWriteTimeout: a frame could not be written within Options.WriteTimeout; the
	// connection was closed as dead.
	ErrWriteTimeout = errors.New("write timed out")
	// ErrBadReply: the peer answered a call with a CALLRESULT or CALLERROR that does not parse.
	// The error also wraps the *ocpp.Error describing what was wrong.
	ErrBadReply = errors.New("malformed reply")
)

// CallError is the peer's CALLERROR answer to a Call.
type CallError struct {
	Action      string // of the CALL it answers
	Code        ocpp.ErrorCode
	Description string
	Details     json.RawMessage // a JSON object, usually {}
}

func (e *CallError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("rpc: %s: peer answered %s", e.Action, e.Code)
	}
	return fmt.Sprintf("rpc: %s: peer answered %s: %s", e.Action, e.Code, e.Description)
}
