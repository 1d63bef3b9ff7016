package ocpp

import "fmt"

// ErrorCode is the code of a CALLERROR (OCPP-J 1.6, section 4.2.3).
type ErrorCode string

// The error codes of OCPP-J 1.6. "OccurenceConstraintViolation" is spelled as the 1.6
// specification spells it; chargers match on the exact string.
const (
	NotImplemented               ErrorCode = "NotImplemented"
	NotSupported                 ErrorCode = "NotSupported"
	InternalError                ErrorCode = "InternalError"
	ProtocolError                ErrorCode = "ProtocolError"
	SecurityError                ErrorCode = "SecurityError"
	FormationViolation           ErrorCode = "FormationViolation"
	PropertyConstraintViolation  ErrorCode = "PropertyConstraintViolation"
	OccurenceConstraintViolation ErrorCode = "OccurenceConstraintViolation"
	TypeConstraintViolation      ErrorCode = "TypeConstraintViolation"
	GenericError                 ErrorCode = "GenericError"
)

// Valid reports whether c is one of the error codes OCPP-J 1.6 defines.
func (c ErrorCode) Valid() bool {
	switch c {
	case NotImplemented, NotSupported, InternalError, ProtocolError, SecurityError,
		FormationViolation, PropertyConstraintViolation, OccurenceConstraintViolation,
		TypeConstraintViolation, GenericError:
		return true
	}
	return false
}

// Error is the content of a CALLERROR. It is returned as a Go error by decoders and
// handlers, and sent to the peer as it is.
type Error struct {
	Code        ErrorCode
	Description string
	// Details is the errorDetails object; nil is sent as {}.
	Details map[string]any
}

func (e *Error) Error() string {
	if e.Description == "" {
		return string(e.Code)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Description)
}

// Errorf returns an *Error with the code and a formatted description.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}
