package ocpp

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// The schema of every message is derived from its Go type, once, when the package is
// initialised: the Go types are the one place that says what a message may hold, and the
// official JSON schemas are only used by the tests, to check that the two agree.
//
// A struct is an object that allows no other properties; its properties are the fields,
// named by their json tags. The type of a field gives the type of its property: string,
// int (integer), float64 (number), bool, a struct (object), a slice (array), DateTime (string
// of format date-time), or a named string type with a Values method (string with an enum).
// The ocpp tag adds what a Go type cannot say, comma-separated:
//
//	required      the property must be present
//	maxLength=N   a string has at most N characters
//	minItems=N    an array has at least N items
//	format=uri    a string is an absolute URI
//	multipleOf=D  a number is a multiple of D, a power of ten such as 0.1
//	exclude=V|W   values of the field's enum type that this property does not allow
//
// On a slice, the string constraints (maxLength, format, exclude) are those of its items.

// kind is the JSON type a schema allows.
type kind uint8

const (
	kindString kind = iota + 1
	kindInteger
	kindNumber
	kindBoolean
	kindObject
	kindArray
)

func (k kind) String() string {
	switch k {
	case kindString:
		return "string"
	case kindInteger:
		return "integer"
	case kindNumber:
		return "number"
	case kindBoolean:
		return "boolean"
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// The formats of the OCPP 1.6 schemas.
const (
	formatDateTime = "date-time"
	formatURI      = "uri"
)

// schema is what the official JSON schema of a value says, in the words of the keywords
// the OCPP 1.6 schemas use, and the Go type the value is decoded into.
type schema struct {
	kind      kind
	format    string
	maxLength int // 0: no limit
	enum      []string
	// multipleOf is D of a multipleOf=D tag, and step its power of ten: -1 for 0.1.
	multipleOf string
	step       int
	minItems   int
	items      *schema    // arrays
	props      []property // objects
	typ        reflect.Type
}

type property struct {
	name     string
	required bool
	field    int  // index of the struct field
	ptr      bool // the field points to the value
	schema   *schema
}

// maxProperties bounds the properties of an object, so that the decoder can keep the ones it
// has seen in a bit set.
const maxProperties = 64

// constraints is a parsed ocpp tag.
type constraints struct {
	required   bool
	maxLength  int
	minItems   int
	format     string
	multipleOf string
	exclude    []string
}

func parseConstraints(tag string) (constraints, error) {
	var c constraints
	if tag == "" {
		return c, nil
	}
	for _, item := range strings.Split(tag, ",") {
		key, val, hasVal := strings.Cut(item, "=")
		var err error
		switch {
		case key == "required" && !hasVal:
			c.required = true
		case key == "maxLength" && hasVal:
			c.maxLength, err = positive(val)
		case key == "minItems" && hasVal:
			c.minItems, err = positive(val)
		case key == "format" && val == formatURI:
			c.format = val
		case key == "multipleOf" && hasVal:
			c.multipleOf = val
		case key == "exclude" && hasVal:
			c.exclude = strings.Split(val, "|")
		default:
			err = fmt.Errorf("unknown constraint %q", item)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive integer", s)
	}
	return n, nil
}

var (
	enumInterface = reflect.TypeFor[interface{ Values() []string }]()
	dateTimeType  = reflect.TypeFor[DateTime]()
)

// schemaOf derives the schema of a message type. A type it cannot describe is a mistake in
// this package, which the tests meet at once, so it panics.
func schemaOf(t reflect.Type) *schema {
	s, err := derive(t, constraints{})
	if err != nil {
		panic(fmt.Sprintf("ocpp: schema of %v: %v", t, err))
	}
	return s
}

func derive(t reflect.Type, c constraints) (*schema, error) {
	s := &schema{typ: t}
	switch {
	case t == dateTimeType:
		s.kind, s.format = kindString, formatDateTime
	case t.Kind() == reflect.String:
		s.kind, s.format, s.maxLength = kindString, c.format, c.maxLength
		if t.Implements(enumInterface) {
			values := reflect.Zero(t).Interface().(interface{ Values() []string }).Values()
			for _, x := range c.exclude {
				if !slices.Contains(values, x) {
					return nil, fmt.Errorf("excluded value %q is not one of %v", x, t)
				}
			}
			s.enum = slices.DeleteFunc(values, func(v string) bool { return slices.Contains(c.exclude, v) })
		}
	case t.Kind() == reflect.Int:
		s.kind = kindInteger
	case t.Kind() == reflect.Float64:
		s.kind = kindNumber
		if c.multipleOf != "" {
			step, ok := powerOfTen(c.multipleOf)
			if !ok {
				return nil, fmt.Errorf("multipleOf %q is not a power of ten", c.multipleOf)
			}
			s.multipleOf, s.step = c.multipleOf, step
		}
	case t.Kind() == reflect.Bool:
		s.kind = kindBoolean
	case t.Kind() == reflect.Slice:
		s.kind, s.minItems = kindArray, c.minItems
		items, err := derive(t.Elem(), constraints{maxLength: c.maxLength, format: c.format, exclude: c.exclude})
		if err != nil {
			return nil, err
		}
		s.items = items
		c.maxLength, c.format, c.exclude = 0, "", nil // now the items'
	case t.Kind() == reflect.Struct:
		s.kind = kindObject
		props, err := deriveProperties(t)
		if err != nil {
			return nil, err
		}
		s.props = props
	default:
		return nil, fmt.Errorf("%v has no JSON schema type", t)
	}
	// A constraint the kind cannot carry is a typo in a tag.
	if (c.maxLength != 0 || c.format != "") && s.kind != kindString ||
		c.exclude != nil && s.enum == nil ||
		c.minItems != 0 && s.kind != kindArray ||
		c.multipleOf != "" && s.kind != kindNumber {
		return nil, fmt.Errorf("constraints %+v do not apply to %v", c, t)
	}
	return s, nil
}

func deriveProperties(t reflect.Type) ([]property, error) {
	if t.NumField() > maxProperties {
		return nil, fmt.Errorf("%v has more than %d fields", t, maxProperties)
	}
	var props []property
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			return nil, fmt.Errorf("field %s of %v has no json name", f.Name, t)
		}
		c, err := parseConstraints(f.Tag.Get("ocpp"))
		if err != nil {
			return nil, fmt.Errorf("field %s of %v: %w", f.Name, t, err)
		}
		ft, ptr := f.Type, f.Type.Kind() == reflect.Pointer
		if ptr {
			ft = ft.Elem()
		}
		// A required property is always sent, so it cannot be omitempty or nil; an optional
		// one must be left out when unset, which for a number, a bool or an object (where
		// the zero value means something or omitempty does nothing) takes a pointer.
		omitempty := opts == "omitempty"
		optionalOK := omitempty && (ptr || ft.Kind() == reflect.String || ft.Kind() == reflect.Slice)
		if c.required && (omitempty || ptr) || !c.required && !optionalOK {
			return nil, fmt.Errorf("field %s of %v: required=%v does not fit its type and tags", f.Name, t, c.required)
		}
		s, err := derive(ft, c)
		if err != nil {
			return nil, fmt.Errorf("field %s of %v: %w", f.Name, t, err)
		}
		props = append(props, property{name: name, required: c.required, field: i, ptr: ptr, schema: s})
	}
	return props, nil
}

// powerOfTen returns p for a decimal string that is exactly 10^p, such as "0.1" or "100".
func powerOfTen(s string) (int, bool) {
	scale, zero, ok := decimalScale([]byte(s))
	if !ok || zero {
		return 0, false
	}
	mantissa := strings.Trim(strings.ReplaceAll(s, ".", ""), "0")
	return scale, mantissa == "1"
}
