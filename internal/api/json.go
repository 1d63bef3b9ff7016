package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Error is an error answer of the API, written as {"error": {...}}. Handlers return one for
// every failure a client can act on.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"` // one of the Code constants; stable, for programs
	Message string `json:"message"`
	// Field names the body property, query parameter or path wildcard at fault, if any.
	Field string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s (%s): %s", e.Status, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// The error codes of the API. New routes may add codes of their own.
const (
	CodeUnauthorized     = "unauthorized"       // 401: no token
	CodeInvalidToken     = "invalid_token"      // 401: a wrong, malformed or revoked token
	CodeNotFound         = "not_found"          // 404: no such resource in the token's account
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeMalformedJSON    = "malformed_json"     // 400: the body is not one JSON object
	CodeUnknownField     = "unknown_field"      // 400: a body property the route does not take
	CodeInvalidField     = "invalid_field"      // 400: a body property or path value that is wrong
	CodeInvalidParameter = "invalid_parameter"  // 400: a query parameter that is wrong or unknown
	CodeBodyTooLarge     = "body_too_large"     // 413
	CodeInternal         = "internal_error"     // 500: logged on the server
)

// Errorf returns an Error; field may be empty.
func Errorf(status int, code, field, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// invalidField is the 400 for a bad body property or path value.
func invalidField(field, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalidField, field, "%s: %s", field, fmt.Sprintf(format, args...))
}

// invalidParameter is the 400 for a bad query parameter.
func invalidParameter(name, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalidParameter, name, "query parameter %s: %s", name, fmt.Sprintf(format, args...))
}

// WriteJSON writes v as the JSON answer with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (a type that cannot be encoded) gets here.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"` + CodeInternal + `","message":"internal error: cannot encode the answer"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// WriteError writes e as the error body. A 401 also gets the WWW-Authenticate header of
// RFC 6750.
func WriteError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="chargebook"`
		if e.Code == CodeInvalidToken {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	WriteJSON(w, e.Status, struct {
		Error *Error `json:"error"`
	}{e})
}

// DecodeJSON decodes the request body, one JSON object, into v strictly: malformed JSON,
// an empty body, anything after the object, a property v has no field for, and a value of
// the wrong type are each an *Error naming the problem (and the property).
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "the body must be one JSON object, with nothing after it")
		}
		return nil
	}
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "the body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &syntax):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "the body must be a JSON object, not %s", typ.Value)
		}
		return invalidField(typ.Field, "want %s, not %s", describeType(typ.Type), describeValue(typ.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return Errorf(http.StatusBadRequest, CodeUnknownField, name, "unknown property %q", name)
	}
	return Errorf(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func describeType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "an RFC 3339 time such as 2025-03-01T10:00:00Z"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice:
		return "an array"
	}
	return "an object"
}

// describeValue completes the kind of value encoding/json names in a type error.
func describeValue(v string) string {
	switch v {
	case "bool":
		return "a boolean"
	case "number", "string":
		return "a " + v
	case "array", "object":
		return "an " + v
	}
	return v
}

// Optional is a body property of a PATCH: whether it was sent, and whether as null, tell
// "leave it", "clear it" and "set it" apart.
type Optional[T any] struct {
	Set   bool // the property was in the body
	Null  bool // it was null
	Value T
}

// UnmarshalJSON implements json.Unmarshaler. A value of the wrong type is reported as a
// *json.UnmarshalTypeError, which the decoder completes with the property's name.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	if err := json.Unmarshal(b, &o.Value); err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[T]()}
	}
	return nil
}

// jsonKind describes a JSON value for an error message: strings as themselves (shortened),
// other values by kind.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		if len(b) > 40 {
			return "a string"
		}
		return string(b)
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// checkQuery refuses a malformed query string, query parameters the route does not take,
// and parameters given twice.
func checkQuery(r *http.Request, allowed []string) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Errorf(http.StatusBadRequest, CodeInvalidParameter, "", "malformed query string: %v", err)
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		values := q[name]
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return invalidParameter(name, "unknown; this route takes no query parameters")
			}
			return invalidParameter(name, "unknown; this route takes %s", strings.Join(allowed, ", "))
		}
		if len(values) > 1 {
			return invalidParameter(name, "given %d times", len(values))
		}
	}
	return nil
}

// QueryInt returns the integer query parameter, def when it is absent. A value that is not
// an integer in [min, max] is a 400 naming the parameter.
func QueryInt(r *http.Request, name string, def, min, max int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, invalidParameter(name, "%q is not an integer from %d to %d", s, min, max)
	}
	return n, nil
}

// QueryTime returns the time query parameter, zero when it is absent. A value that is not
// an RFC 3339 time is a 400 naming the parameter.
func QueryTime(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		hint := ""
		if strings.Contains(s, " ") {
			hint = " (a + in a time zone offset must be sent as %2B)"
		}
		return time.Time{}, invalidParameter(name, "%q is not an RFC 3339 time such as 2025-03-01T10:00:00Z%s", s, hint)
	}
	return t.UTC(), nil
}

// QueryBool returns the boolean query parameter (true or false), nil when it is absent.
func QueryBool(r *http.Request, name string) (*bool, error) {
	switch s := r.URL.Query().Get(name); s {
	case "":
		return nil, nil
	case "true":
		v := true
		return &v, nil
	case "false":
		v := false
		return &v, nil
	default:
		return nil, invalidParameter(name, "%q is neither true nor false", s)
	}
}

// jsonTime is how a time that may be unset is written: null when zero, UTC otherwise.
func jsonTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// jsonString is how a string that may be unset is written: null when empty.
func jsonString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
