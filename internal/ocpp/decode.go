package ocpp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Mode is how a decoder treats a payload that breaks the schema of its action.
type Mode int

const (
	// Strict rejects every payload that breaks the schema.
	Strict Mode = iota
	// Lenient reads what chargers in the field are known to get wrong when it can be read
	// without guessing, and reports each such thing as a warning: unknown properties
	// (dropped), strings longer than their maxLength (kept whole), values outside an enum
	// (kept as sent), numbers that are not a multiple of their multipleOf (kept as sent),
	// loose date-times (see parseDateTime), integers written as 1234.0 or "1234", numbers
	// written as strings, and null for an optional property (read as absent). Everything else
	// is an error, as in Strict mode.
	Lenient
)

// DecodeRequest decodes and validates the payload of a CALL of action into a pointer to its
// request type, such as *BootNotificationRequest. It does not judge whether the sender may
// send action; the caller answers NotSupported when it may not.
//
// An error is an *Error to answer the CALL with. Its description starts with the path of the
// offending property (meterValue[0].sampledValue[1].unit: ...), so that the station's log
// says what to fix. In Lenient mode, warnings says what was tolerated, in the same form.
func DecodeRequest(action string, payload []byte, mode Mode) (req any, warnings []string, err error) {
	a, ok := registry.byName[action]
	if !ok {
		return nil, nil, Errorf(NotImplemented, "unknown action %q", action)
	}
	return decodePayload(a.request, payload, mode)
}

// DecodeResponse decodes and validates the payload of the CALLRESULT to a CALL of action into
// a pointer to its response type, such as *BootNotificationResponse; errors and warnings are
// those of DecodeRequest.
func DecodeResponse(action string, payload []byte, mode Mode) (resp any, warnings []string, err error) {
	a, ok := registry.byName[action]
	if !ok {
		return nil, nil, Errorf(NotImplemented, "unknown action %q", action)
	}
	return decodePayload(a.response, payload, mode)
}

// EncodePayload marshals a request or response, given by value or pointer, and validates the
// result strictly: what the central system sends must be beyond reproach, and a value that
// breaks its schema is a bug to report rather than a message to send. The error of a failed
// validation wraps the *Error.
func EncodePayload(msg any) ([]byte, error) {
	m, ok := registry.message(msg)
	if !ok {
		return nil, fmt.Errorf("ocpp: encode %T: not an OCPP 1.6 request or response", msg)
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("ocpp: encode %s: %w", m.typeName(), err)
	}
	if _, _, err := decodePayload(m.schema, b, Strict); err != nil {
		return nil, fmt.Errorf("ocpp: encode %s: %w", m.typeName(), err)
	}
	return b, nil
}

func decodePayload(s *schema, payload []byte, mode Mode) (any, []string, error) {
	d := decoder{data: payload, lenient: mode == Lenient, path: make([]pathElem, 0, 8)}
	v := reflect.New(s.typ)
	err := d.payload(s, v.Elem())
	if err != nil {
		// The first error in document order may come before a syntax error further on;
		// a payload that is not JSON at all must be told so.
		if !d.syntax && !json.Valid(payload) {
			err = Errorf(FormationViolation, "payload is not valid JSON")
		}
		return nil, nil, err
	}
	return v.Interface(), d.warnings, nil
}

// decoder reads a payload in one pass, checking it against a schema and filling the Go value
// as it goes: the hot path (MeterValues) then costs one scan and the allocations of the value.
type decoder struct {
	data     []byte
	pos      int
	lenient  bool
	syntax   bool // the error is a JSON syntax error
	warnings []string
	path     []pathElem
}

// pathElem is a property name, or an array index when name is "".
type pathElem struct {
	name  string
	index int
}

// maxDepth bounds the nesting of the unknown values Lenient mode skips; the known ones are
// bounded by their schema.
const maxDepth = 1000

func (d *decoder) payload(s *schema, dst reflect.Value) *Error {
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		if !json.Valid(d.data) {
			d.syntax = true
			return Errorf(FormationViolation, "payload is not valid JSON")
		}
		return Errorf(FormationViolation, "payload is not a JSON object")
	}
	if err := d.object(s, dst); err != nil {
		return err
	}
	d.ws()
	if d.pos != len(d.data) {
		return d.syntaxError("data after the payload")
	}
	return nil
}

func (d *decoder) object(s *schema, dst reflect.Value) *Error {
	d.pos++ // '{'
	var seen uint64
	d.ws()
	if d.peek() == '}' {
		d.pos++
		return d.checkRequired(s, seen)
	}
	for {
		d.ws()
		key, err := d.scanString()
		if err != nil {
			return err
		}
		d.ws()
		if d.peek() != ':' {
			return d.syntaxError("expected ':' after a property name")
		}
		d.pos++
		d.ws()
		i := s.lookup(key)
		if i < 0 {
			d.push(pathElem{name: string(key)})
			if !d.lenient {
				return d.fail(FormationViolation, "unknown property")
			}
			d.warn("unknown property, dropped")
			if err := d.skip(0); err != nil {
				return err
			}
			d.pop()
		} else {
			p := &s.props[i]
			d.push(pathElem{name: p.name})
			if seen&(1<<i) != 0 {
				return d.fail(FormationViolation, "property appears twice")
			}
			seen |= 1 << i
			if err := d.property(p, dst.Field(p.field)); err != nil {
				return err
			}
			d.pop()
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return d.checkRequired(s, seen)
		default:
			return d.syntaxError("expected ',' or '}' in an object")
		}
	}
}

func (s *schema) lookup(key []byte) int {
	for i := range s.props {
		if s.props[i].name == string(key) {
			return i
		}
	}
	return -1
}

func (d *decoder) checkRequired(s *schema, seen uint64) *Error {
	for i, p := range s.props {
		if p.required && seen&(1<<i) == 0 {
			d.push(pathElem{name: p.name})
			return d.fail(OccurenceConstraintViolation, "required property is missing")
		}
	}
	return nil
}

func (d *decoder) property(p *property, dst reflect.Value) *Error {
	if d.peek() == 'n' && d.lenient && !p.required {
		if err := d.literal("null"); err != nil {
			return err
		}
		d.warn("null for an optional property, read as absent")
		return nil
	}
	if !p.ptr {
		return d.value(p.schema, dst)
	}
	v := reflect.New(p.schema.typ)
	if err := d.value(p.schema, v.Elem()); err != nil {
		return err
	}
	dst.Set(v)
	return nil
}

func (d *decoder) value(s *schema, dst reflect.Value) *Error {
	c := d.peek()
	switch s.kind {
	case kindObject:
		if c == '{' {
			return d.object(s, dst)
		}
	case kindArray:
		if c == '[' {
			return d.array(s, dst)
		}
	case kindString:
		if c == '"' {
			return d.string(s, dst)
		}
	case kindInteger:
		if c == '-' || c >= '0' && c <= '9' || c == '"' && d.lenient {
			return d.integer(dst)
		}
	case kindNumber:
		if c == '-' || c >= '0' && c <= '9' || c == '"' && d.lenient {
			return d.number(s, dst)
		}
	case kindBoolean:
		switch c {
		case 't':
			dst.SetBool(true)
			return d.literal("true")
		case 'f':
			dst.SetBool(false)
			return d.literal("false")
		}
	}
	return d.fail(TypeConstraintViolation, "expected %s, got %s", s.kind, jsonType(c))
}

func jsonType(c byte) string {
	switch {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "number"
	}
	return "invalid JSON"
}

// initialItems is the capacity an array starts with: it saves the first reallocations for
// the sampled values of a MeterValues, which come in fours and fives.
const initialItems = 4

func (d *decoder) array(s *schema, dst reflect.Value) *Error {
	d.pos++ // '['
	n := 0
	d.ws()
	if d.peek() == ']' {
		d.pos++
		dst.Set(reflect.MakeSlice(s.typ, 0, 0)) // [] stays [], not null
	} else {
		dst.Grow(initialItems)
		for {
			d.ws()
			d.push(pathElem{index: n})
			dst.Grow(1)
			dst.SetLen(n + 1)
			if err := d.value(s.items, dst.Index(n)); err != nil {
				return err
			}
			d.pop()
			n++
			d.ws()
			c := d.peek()
			d.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				d.pos--
				return d.syntaxError("expected ',' or ']' in an array")
			}
		}
	}
	if n < s.minItems {
		return d.fail(PropertyConstraintViolation, "%d items, at least %d required", n, s.minItems)
	}
	return nil
}

func (d *decoder) string(s *schema, dst reflect.Value) *Error {
	raw, err := d.scanString()
	if err != nil {
		return err
	}
	if s.format == formatDateTime {
		t, loose, ok := parseDateTime(raw)
		if !ok || loose && !d.lenient {
			return d.fail(PropertyConstraintViolation, "%s is not an RFC 3339 date-time", quote(raw))
		}
		if loose {
			d.warn("%s is not RFC 3339, read as %s", quote(raw), t.Format(dateTimeLayout))
		}
		dst.Addr().Interface().(*DateTime).Time = t
		return nil
	}
	if s.maxLength > 0 && len(raw) > s.maxLength {
		if n := utf8.RuneCount(raw); n > s.maxLength {
			if !d.lenient {
				return d.fail(PropertyConstraintViolation, "%d characters, at most %d allowed", n, s.maxLength)
			}
			d.warn("%d characters, more than %d, kept whole", n, s.maxLength)
		}
	}
	if s.format == formatURI {
		if u, err := url.Parse(string(raw)); err != nil || !u.IsAbs() {
			return d.fail(PropertyConstraintViolation, "%s is not an absolute URI", quote(raw))
		}
	}
	if s.enum == nil {
		dst.SetString(string(raw))
		return nil
	}
	for _, v := range s.enum {
		if v == string(raw) {
			dst.SetString(v) // the enum's own string: no allocation
			return nil
		}
	}
	msg := fmt.Sprintf("%s is not one of %s", quote(raw), strings.Join(s.enum, ", "))
	if !d.lenient {
		return d.fail(PropertyConstraintViolation, "%s", msg)
	}
	d.warn("%s; kept as sent", msg)
	dst.SetString(string(raw))
	return nil
}

func (d *decoder) integer(dst reflect.Value) *Error {
	lit, isInt, quoted, err := d.scanNumeric("integer")
	if err != nil {
		return err
	}
	var v int64
	if isInt {
		var ok bool
		if v, ok = parseInt(lit); !ok {
			return d.fail(PropertyConstraintViolation, "%s is out of range", lit)
		}
	} else {
		scale, zero, _ := decimalScale(lit)
		if !zero && scale < 0 {
			return d.fail(TypeConstraintViolation, "expected integer, got %s", lit)
		}
		if !d.lenient {
			return d.fail(TypeConstraintViolation, "expected integer, got %s with a fraction or exponent", lit)
		}
		// Beyond 2^53 a float64 is no longer exact, and such values are no OCPP integers.
		f, _ := strconv.ParseFloat(string(lit), 64)
		if math.Abs(f) > 1<<53 {
			return d.fail(PropertyConstraintViolation, "%s is out of range", lit)
		}
		v = int64(f)
	}
	if dst.OverflowInt(v) {
		return d.fail(PropertyConstraintViolation, "%s is out of range", lit)
	}
	dst.SetInt(v)
	if quoted || !isInt {
		d.warn("%s for an integer, read as %d", numericText(lit, quoted), v)
	}
	return nil
}

func (d *decoder) number(s *schema, dst reflect.Value) *Error {
	lit, _, quoted, err := d.scanNumeric("number")
	if err != nil {
		return err
	}
	f, perr := strconv.ParseFloat(string(lit), 64)
	if perr != nil { // only a range error: lit is a JSON number
		return d.fail(PropertyConstraintViolation, "%s is out of range", lit)
	}
	if s.multipleOf != "" {
		if scale, zero, _ := decimalScale(lit); !zero && scale < s.step {
			if !d.lenient {
				return d.fail(PropertyConstraintViolation, "%s is not a multiple of %s", lit, s.multipleOf)
			}
			d.warn("%s is not a multiple of %s, kept as sent", lit, s.multipleOf)
		}
	}
	dst.SetFloat(f)
	if quoted {
		d.warn("%s for a number, read as %s", numericText(lit, quoted), lit)
	}
	return nil
}

// scanNumeric scans a JSON number, or in Lenient mode a string holding one, and returns its
// text and whether it is written as an integer.
func (d *decoder) scanNumeric(want string) (lit []byte, isInt, quoted bool, err *Error) {
	if d.peek() != '"' {
		n, isInt, ok := numberLiteral(d.data[d.pos:])
		if !ok {
			return nil, false, false, d.syntaxError("invalid number")
		}
		lit = d.data[d.pos : d.pos+n]
		d.pos += n
		return lit, isInt, false, nil
	}
	s, err := d.scanString()
	if err != nil {
		return nil, false, false, err
	}
	n, isInt, ok := numberLiteral(s)
	if !ok || n != len(s) {
		return nil, false, false, d.fail(TypeConstraintViolation, "expected %s, got string %s", want, quote(s))
	}
	return s, isInt, true, nil
}

func numericText(lit []byte, quoted bool) string {
	if quoted {
		return "string " + strconv.Quote(string(lit))
	}
	return "number " + string(lit)
}

// numberLiteral returns the length of the JSON number at the start of b, and whether it is
// written without fraction or exponent.
func numberLiteral(b []byte) (n int, isInt, ok bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false, false
		}
		isInt = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false, false
		}
		isInt = false
	}
	return i, isInt, true
}

// parseInt reads a JSON integer literal into an int64.
func parseInt(lit []byte) (int64, bool) {
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	var u uint64
	for _, c := range lit {
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true // -(1<<63) wraps to itself, which is right
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// decimalScale writes the JSON number lit as m·10^scale with m an integer that is not a
// multiple of ten, or reports that it is zero. lit is then an integer when scale >= 0, and a
// multiple of 0.1 when scale >= -1. Big numbers are never built: an exponent such as 1e-999999999
// would take their arithmetic forever.
func decimalScale(lit []byte) (scale int, zero, ok bool) {
	n, _, ok := numberLiteral(lit)
	if !ok || n != len(lit) {
		return 0, false, false
	}
	if lit[0] == '-' {
		lit = lit[1:]
	}
	mantissa, exp := lit, 0
	if i := bytes.IndexAny(lit, "eE"); i >= 0 {
		mantissa = lit[:i]
		e := lit[i+1:]
		neg := e[0] == '-'
		if e[0] == '+' || e[0] == '-' {
			e = e[1:]
		}
		for _, c := range e {
			if exp < 1e9 { // saturate: no OCPP value comes near
				exp = exp*10 + int(c-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	intPart, frac, _ := strings.Cut(string(mantissa), ".")
	digits := intPart + frac
	trimmed := strings.TrimRight(digits, "0")
	if strings.Trim(trimmed, "0") == "" {
		return 0, true, true
	}
	return exp - len(frac) + len(digits) - len(trimmed), false, true
}

// scanString scans the JSON string at d.pos and returns its content, unescaped. Invalid UTF-8
// becomes U+FFFD, as with encoding/json.
func (d *decoder) scanString() ([]byte, *Error) {
	if d.peek() != '"' {
		return nil, d.syntaxError("expected a string")
	}
	start := d.pos + 1
	plain, ascii := true, true
	i := start
	for ; ; i++ {
		if i >= len(d.data) {
			return nil, d.syntaxError("unterminated string")
		}
		c := d.data[i]
		if c == '"' {
			break
		}
		switch {
		case c < 0x20:
			d.pos = i
			return nil, d.syntaxError("control character in a string")
		case c >= 0x80:
			ascii = false
		case c == '\\':
			plain = false
			i++
			if i >= len(d.data) {
				return nil, d.syntaxError("unterminated string")
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d.data) || !isHex(d.data[i+1:i+5]) {
					d.pos = i
					return nil, d.syntaxError("invalid \\u escape")
				}
				i += 4
			default:
				d.pos = i
				return nil, d.syntaxError("invalid escape")
			}
		}
	}
	raw := d.data[start:i]
	d.pos = i + 1
	if plain && (ascii || utf8.Valid(raw)) {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(d.data[start-1:i+1], &s); err != nil {
		return nil, d.syntaxError("invalid string")
	}
	return []byte(s), nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// skip scans over any JSON value, for the unknown properties Lenient mode drops.
func (d *decoder) skip(depth int) *Error {
	if depth > maxDepth {
		return d.fail(FormationViolation, "nested more than %d levels deep", maxDepth)
	}
	switch c := d.peek(); {
	case c == '{':
		d.pos++
		d.ws()
		if d.peek() == '}' {
			d.pos++
			return nil
		}
		for {
			d.ws()
			if _, err := d.scanString(); err != nil {
				return err
			}
			d.ws()
			if d.peek() != ':' {
				return d.syntaxError("expected ':' after a property name")
			}
			d.pos++
			d.ws()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				return nil
			default:
				return d.syntaxError("expected ',' or '}' in an object")
			}
		}
	case c == '[':
		d.pos++
		d.ws()
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			d.ws()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return nil
			default:
				return d.syntaxError("expected ',' or ']' in an array")
			}
		}
	case c == '"':
		_, err := d.scanString()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		n, _, ok := numberLiteral(d.data[d.pos:])
		if !ok {
			return d.syntaxError("expected a value")
		}
		d.pos += n
		return nil
	}
}

func (d *decoder) literal(lit string) *Error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.syntaxError("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the byte at d.pos, or 0 at the end, which no JSON token starts with.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) push(e pathElem) { d.path = append(d.path, e) }
func (d *decoder) pop()            { d.path = d.path[:len(d.path)-1] }

// where renders the current path, as meterValue[0].sampledValue[1].unit.
func (d *decoder) where() string {
	if len(d.path) == 0 {
		return "payload"
	}
	var b strings.Builder
	for i, e := range d.path {
		switch {
		case e.name == "":
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.index))
			b.WriteByte(']')
		case i > 0:
			b.WriteByte('.')
			fallthrough
		default:
			b.WriteString(e.name)
		}
	}
	return b.String()
}

func (d *decoder) fail(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Description: d.where() + ": " + fmt.Sprintf(format, args...)}
}

func (d *decoder) warn(format string, args ...any) {
	d.warnings = append(d.warnings, d.where()+": "+fmt.Sprintf(format, args...))
}

func (d *decoder) syntaxError(what string) *Error {
	d.syntax = true
	return Errorf(FormationViolation, "payload is not valid JSON: %s at byte %d", what, d.pos)
}

// quote quotes a value for a message, shortened: a log line must stay readable when a
// charger sends a page of text where twenty characters belong.
func quote(b []byte) string {
	const max = 40
	if utf8.RuneCount(b) <= max {
		return strconv.Quote(string(b))
	}
	r := []rune(string(b))
	return strconv.Quote(string(r[:max])) + "…"
}
