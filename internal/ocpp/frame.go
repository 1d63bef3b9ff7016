package ocpp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// MessageType is the first element of every OCPP-J frame.
type MessageType int

// The three OCPP-J message types.
const (
	Call       MessageType = 2
	CallResult MessageType = 3
	CallError  MessageType = 4
)

// MaxMessageIDLength is the longest message id OCPP-J allows (section 4.1.3).
const MaxMessageIDLength = 36

// maxErrorDescription keeps CALLERROR descriptions short; OCPP-J 2.0.1 limits them to 255
// characters and 1.6 chargers are known to choke on longer ones.
const maxErrorDescription = 255

// UnknownMessageID answers a frame whose message id could not be read: the receiver cannot
// match it to anything, but must still be told what went wrong.
const UnknownMessageID = "-1"

// Frame is one decoded OCPP-J message. Payload is left undecoded: what it must contain
// depends on the action, which for a CALLRESULT only the sender of the CALL knows.
type Frame struct {
	Type    MessageType
	ID      string
	Action  string          // CALL only
	Payload json.RawMessage // CALL and CALLRESULT

	ErrorCode        ErrorCode       // CALLERROR only
	ErrorDescription string          // CALLERROR only
	ErrorDetails     json.RawMessage // CALLERROR only
}

// ParseFrame decodes an OCPP-J frame. On failure it returns the CALLERROR to answer with,
// and a Frame whose ID is set when the message id could still be read (UnknownMessageID
// otherwise), so the answer can name it.
func ParseFrame(data []byte) (Frame, *Error) {
	f := Frame{ID: UnknownMessageID}
	var elems []json.RawMessage
	// null unmarshals without error, into a nil slice; [] into an empty one.
	if err := json.Unmarshal(data, &elems); err != nil || elems == nil {
		if !json.Valid(data) {
			return f, Errorf(FormationViolation, "message is not valid JSON")
		}
		return f, Errorf(FormationViolation, "message is not a JSON array")
	}
	if len(elems) < 3 {
		return f, Errorf(FormationViolation, "message has %d elements, at least 3 are required", len(elems))
	}
	if id, ok := decodeString(elems[1]); ok {
		if id == "" || len(id) > MaxMessageIDLength {
			return f, Errorf(FormationViolation, "message id must be 1 to %d characters", MaxMessageIDLength)
		}
		f.ID = id
	} else {
		return f, Errorf(FormationViolation, "message id is not a string")
	}
	typ, err := strconv.Atoi(string(bytes.TrimSpace(elems[0])))
	if err != nil {
		return f, Errorf(FormationViolation, "message type id is not an integer")
	}
	f.Type = MessageType(typ)
	switch f.Type {
	case Call:
		if len(elems) != 4 {
			return f, Errorf(FormationViolation, "a CALL has 4 elements, not %d", len(elems))
		}
		action, ok := decodeString(elems[2])
		if !ok || action == "" {
			return f, Errorf(FormationViolation, "action is not a non-empty string")
		}
		f.Action = action
		if !isObject(elems[3]) {
			return f, Errorf(FormationViolation, "payload of %s is not a JSON object", action)
		}
		f.Payload = elems[3]
	case CallResult:
		if len(elems) != 3 {
			return f, Errorf(FormationViolation, "a CALLRESULT has 3 elements, not %d", len(elems))
		}
		if !isObject(elems[2]) {
			return f, Errorf(FormationViolation, "CALLRESULT payload is not a JSON object")
		}
		f.Payload = elems[2]
	case CallError:
		if len(elems) != 5 {
			return f, Errorf(FormationViolation, "a CALLERROR has 5 elements, not %d", len(elems))
		}
		code, ok := decodeString(elems[2])
		if !ok {
			return f, Errorf(FormationViolation, "errorCode is not a string")
		}
		desc, ok := decodeString(elems[3])
		if !ok {
			return f, Errorf(FormationViolation, "errorDescription is not a string")
		}
		if !isObject(elems[4]) {
			return f, Errorf(FormationViolation, "errorDetails is not a JSON object")
		}
		f.ErrorCode, f.ErrorDescription, f.ErrorDetails = ErrorCode(code), desc, elems[4]
	default:
		return f, Errorf(ProtocolError, "unknown message type id %d", typ)
	}
	return f, nil
}

func decodeString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) >= 2 && raw[0] == '{'
}

// AppendCall appends a CALL frame. payload must be a JSON object.
func AppendCall(dst []byte, id, action string, payload []byte) []byte {
	dst = append(dst, `[2,`...)
	dst = appendJSONString(dst, id)
	dst = append(dst, ',')
	dst = appendJSONString(dst, action)
	dst = append(dst, ',')
	dst = append(dst, payload...)
	return append(dst, ']')
}

// AppendCallResult appends a CALLRESULT frame. payload must be a JSON object.
func AppendCallResult(dst []byte, id string, payload []byte) []byte {
	dst = append(dst, `[3,`...)
	dst = appendJSONString(dst, id)
	dst = append(dst, ',')
	dst = append(dst, payload...)
	return append(dst, ']')
}

// AppendCallError appends a CALLERROR frame for e.
func AppendCallError(dst []byte, id string, e *Error) []byte {
	code := e.Code
	if !code.Valid() {
		code = GenericError
	}
	desc := e.Description
	if len(desc) > maxErrorDescription {
		// Cut at a rune boundary; invalid UTF-8 before it is json.Marshal's to replace.
		cut := maxErrorDescription
		for cut > 0 && !utf8.RuneStart(desc[cut]) {
			cut--
		}
		desc = desc[:cut]
	}
	details := []byte("{}")
	if len(e.Details) > 0 {
		if b, err := json.Marshal(e.Details); err == nil {
			details = b
		}
	}
	dst = append(dst, `[4,`...)
	dst = appendJSONString(dst, id)
	dst = append(dst, ',')
	dst = appendJSONString(dst, string(code))
	dst = append(dst, ',')
	dst = appendJSONString(dst, desc)
	dst = append(dst, ',')
	dst = append(dst, details...)
	return append(dst, ']')
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}
