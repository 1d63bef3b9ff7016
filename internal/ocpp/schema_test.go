package ocpp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// officialSchemas are the JSON schemas the Open Charge Alliance published with OCPP 1.6,
// kept beside the repository: the product never reads them, the tests hold it to them.
const officialSchemas = "../../../shared/ocpp16-schemas"

// official is one schema file: which message it describes, the schema as a JSON value
// (numbers as json.Number, so that 0.1 stays 0.1), and the oracle compiled from it.
type official struct {
	file     string
	action   Action
	response bool
	root     map[string]any
	oracle   *jsonschema.Schema
}

func (o *official) ours() *schema {
	if o.response {
		return o.action.response
	}
	return o.action.request
}

func (o *official) decode(payload []byte, mode Mode) (any, []string, error) {
	if o.response {
		return DecodeResponse(o.action.Name, payload, mode)
	}
	return DecodeRequest(o.action.Name, payload, mode)
}

func loadOfficial(t *testing.T) []*official {
	t.Helper()
	entries, err := os.ReadDir(officialSchemas)
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the official OCPP 1.6 schemas are not in %s; CI must check against them", officialSchemas)
		}
		t.Skipf("the official OCPP 1.6 schemas are not in %s: not checking against them", officialSchemas)
	}
	if err != nil {
		t.Fatal(err)
	}
	var all []*official
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		o := &official{file: e.Name()}
		actionName, response := strings.CutSuffix(name, "Response")
		o.response = response
		if o.action, ok = LookupAction(actionName); !ok {
			t.Errorf("%s: no action %s", e.Name(), actionName)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(officialSchemas, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		o.root = doc.(map[string]any)
		c := jsonschema.NewCompiler()
		url := "file:///ocpp16/" + e.Name()
		if err := c.AddResource(url, doc); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if o.oracle, err = c.Compile(url); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		all = append(all, o)
	}
	if want := 2 * len(Actions()); len(all) != want {
		t.Errorf("%d schema files for %d actions, want %d", len(all), len(Actions()), want)
	}
	return all
}

// resolve follows a "$ref" into the definitions of the root, which is the only kind of
// reference the OCPP schemas make.
func (o *official) resolve(s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	name, ok := strings.CutPrefix(ref, "#/definitions/")
	def, _ := o.root["definitions"].(map[string]any)[name].(map[string]any)
	if !ok || def == nil {
		panic(fmt.Sprintf("%s: cannot resolve %q", o.file, ref))
	}
	return def
}

// TestSchemasMatchOfficial holds the schema derived from each Go type to the official one,
// keyword by keyword: the same properties, types, required sets, lengths, enums, formats and
// array constraints, all the way down.
func TestSchemasMatchOfficial(t *testing.T) {
	for _, o := range loadOfficial(t) {
		o.compare(t, o.file, o.root, o.ours())
	}
}

var knownKeywords = []string{
	"$schema", "$id", "title", "definitions", "javaType", "$ref", // no constraints
	"type", "properties", "required", "additionalProperties", "additionalItems",
	"maxLength", "enum", "format", "items", "minItems", "multipleOf",
}

func (o *official) compare(t *testing.T, where string, off map[string]any, ours *schema) {
	t.Helper()
	off = o.resolve(off)
	for k := range off {
		if !slices.Contains(knownKeywords, k) {
			t.Errorf("%s: keyword %q is not compared; teach the test and the package", where, k)
		}
	}
	if typ, _ := off["type"].(string); typ != ours.kind.String() {
		t.Errorf("%s: type %q, ours %s", where, typ, ours.kind)
		return
	}
	// Keywords that do not apply to a type are ignored by JSON Schema; the OCPP schemas put
	// additionalProperties: false on enums, for one. An array's additionalItems only applies
	// to a list of item schemas, which OCPP never uses.
	if ours.kind == kindObject && off["additionalProperties"] != false {
		t.Errorf("%s: additionalProperties is %v; ours is always false", where, off["additionalProperties"])
	}
	if ai, ok := off["additionalItems"]; ok && (ours.kind != kindArray || ai != false) {
		t.Errorf("%s: additionalItems %v", where, ai)
	}
	if got := intKeyword(t, where, off, "maxLength"); got != ours.maxLength {
		t.Errorf("%s: maxLength %d, ours %d", where, got, ours.maxLength)
	}
	if got := intKeyword(t, where, off, "minItems"); got != ours.minItems {
		t.Errorf("%s: minItems %d, ours %d", where, got, ours.minItems)
	}
	if f, _ := off["format"].(string); f != ours.format {
		t.Errorf("%s: format %q, ours %q", where, f, ours.format)
	}
	var enum []string
	if e, ok := off["enum"].([]any); ok {
		for _, v := range e {
			enum = append(enum, v.(string))
		}
	}
	if !sameSet(enum, ours.enum) {
		t.Errorf("%s: enum %q, ours %q", where, enum, ours.enum)
	}
	offMul, ourMul := ratKeyword(off["multipleOf"]), ratKeyword(ours.multipleOf)
	if (offMul == nil) != (ourMul == nil) || offMul != nil && offMul.Cmp(ourMul) != 0 {
		t.Errorf("%s: multipleOf %v, ours %q", where, off["multipleOf"], ours.multipleOf)
	}
	if ourMul != nil && ourMul.Cmp(new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-ours.step)), nil))) != 0 {
		t.Errorf("%s: multipleOf %s, step 10^%d", where, ours.multipleOf, ours.step)
	}

	switch ours.kind {
	case kindArray:
		items, _ := off["items"].(map[string]any)
		if items == nil {
			t.Errorf("%s: array without an items schema", where)
			return
		}
		o.compare(t, where+"[]", items, ours.items)
	case kindObject:
		props, _ := off["properties"].(map[string]any)
		var offNames, ourNames, offRequired, ourRequired []string
		for name := range props {
			offNames = append(offNames, name)
		}
		required, _ := off["required"].([]any)
		for _, r := range required {
			offRequired = append(offRequired, r.(string))
		}
		for _, p := range ours.props {
			ourNames = append(ourNames, p.name)
			if p.required {
				ourRequired = append(ourRequired, p.name)
			}
			if ps, ok := props[p.name].(map[string]any); ok {
				o.compare(t, where+"."+p.name, ps, p.schema)
			}
		}
		if !sameSet(offNames, ourNames) {
			t.Errorf("%s: properties %q, ours %q", where, sorted(offNames), sorted(ourNames))
		}
		if !sameSet(offRequired, ourRequired) {
			t.Errorf("%s: required %q, ours %q", where, sorted(offRequired), sorted(ourRequired))
		}
	}
}

func intKeyword(t *testing.T, where string, s map[string]any, k string) int {
	v, ok := s[k]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(string(v.(json.Number)))
	if err != nil {
		t.Errorf("%s: %s is %v", where, k, v)
	}
	return n
}

func ratKeyword(v any) *big.Rat {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = string(v)
	case string:
		s = v
	}
	if s == "" {
		return nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

func sameSet(a, b []string) bool {
	return slices.Equal(sorted(a), sorted(b))
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// TestGeneratedDocuments builds documents from each official schema, valid ones and ones
// broken in a single place, and checks that the oracle (a JSON Schema validator fed the
// official schema) and our validator agree on each, ours with the right error code.
func TestGeneratedDocuments(t *testing.T) {
	var valid, broken int
	for _, o := range loadOfficial(t) {
		t.Run(strings.TrimSuffix(o.file, ".json"), func(t *testing.T) {
			valid += o.checkValid(t)
			broken += o.checkMutations(t)
		})
	}
	t.Logf("%d valid documents, %d broken ones", valid, broken)
}

func (o *official) checkValid(t *testing.T) int {
	// Full documents hold every property, with the enums going through all their values
	// across the variants; the minimal one holds the required properties only.
	variants := max(1, o.maxEnum(o.root))
	docs := []any{o.generate(o.root, false, 0)}
	for v := range variants {
		docs = append(docs, o.generate(o.root, true, v))
	}
	for _, doc := range docs {
		payload := mustMarshal(t, doc)
		if err := o.oracle.Validate(mustOracle(t, payload)); err != nil {
			t.Fatalf("generator is wrong: the oracle rejects %s: %v", payload, err)
		}
		v, warnings, err := o.decode(payload, Strict)
		if err != nil || warnings != nil {
			t.Errorf("rejected %s: %v, warnings %q", payload, err, warnings)
			continue
		}
		enc, err := EncodePayload(v)
		if err != nil || !jsonEqual(enc, payload) {
			t.Errorf("round trip of %s gives %s, %v", payload, enc, err)
		}
		if _, warnings, err = o.decode(payload, Lenient); err != nil || warnings != nil {
			t.Errorf("Lenient mode: %v, warnings %q for %s", err, warnings, payload)
		}
	}
	return len(docs)
}

// mutation is a document broken in one place, and what each mode must say of it.
type mutation struct {
	what    string
	path    []any // keys and indexes; the last one is changed
	delete  bool
	value   any
	code    ErrorCode
	lenient lenientOutcome
}

type lenientOutcome int

const (
	lenientSame   lenientOutcome = iota // the same error as in Strict mode
	lenientWarns                        // accepted with one warning
	lenientEither                       // depends on the value; not checked
)

func (o *official) checkMutations(t *testing.T) int {
	base := o.generate(o.root, true, 0)
	var ms []mutation
	o.mutations(o.root, nil, &ms)
	for _, m := range ms {
		doc := edit(base, m)
		payload := mustMarshal(t, doc)
		where := fmt.Sprintf("%s at %s: %s", m.what, renderPath(m.path), payload)
		if err := o.oracle.Validate(mustOracle(t, payload)); err == nil {
			t.Errorf("%s: the oracle accepts it", where)
			continue
		}
		_, _, err := o.decode(payload, Strict)
		var e *Error
		if !errors.As(err, &e) || e.Code != m.code {
			t.Errorf("%s: got %v, want %s", where, err, m.code)
			continue
		}
		if want := renderPath(m.path) + ": "; !strings.HasPrefix(e.Description, want) {
			t.Errorf("%s: description %q does not start with %q", where, e.Description, want)
		}
		_, warnings, err := o.decode(payload, Lenient)
		switch m.lenient {
		case lenientSame:
			if !errors.As(err, &e) || e.Code != m.code {
				t.Errorf("%s: Lenient mode gives %v, want %s", where, err, m.code)
			}
		case lenientWarns:
			if err != nil || len(warnings) != 1 || !strings.HasPrefix(warnings[0], renderPath(m.path)+": ") {
				t.Errorf("%s: Lenient mode gives %v, warnings %q; want one warning", where, err, warnings)
			}
		}
	}
	return len(ms)
}

func (o *official) mutations(s map[string]any, path []any, out *[]mutation) {
	s = o.resolve(s)
	at := func(k any) []any { return append(slices.Clip(path), k) }
	add := func(m mutation) {
		if m.path == nil {
			m.path = path
		}
		*out = append(*out, m)
	}
	typ := s["type"].(string)
	if len(path) > 0 {
		for _, v := range wrongTypes[typ] {
			outcome := lenientSame
			if v == nil || typ == "integer" && v == "42" || typ == "number" && v == "16.1" {
				outcome = lenientEither // null for an optional property, a number as a string
			}
			add(mutation{what: fmt.Sprintf("%s as %s", typ, jsonText(v)), value: v, code: TypeConstraintViolation, lenient: outcome})
		}
	}
	switch typ {
	case "string":
		if n, ok := s["maxLength"].(json.Number); ok {
			max, _ := strconv.Atoi(string(n))
			add(mutation{what: "too long", value: strings.Repeat("x", max+1), code: PropertyConstraintViolation, lenient: lenientWarns})
			add(mutation{what: "too many characters", value: strings.Repeat("é", max+1), code: PropertyConstraintViolation, lenient: lenientWarns})
		}
		if _, ok := s["enum"]; ok {
			add(mutation{what: "not in the enum", value: "NotAValue", code: PropertyConstraintViolation, lenient: lenientWarns})
			add(mutation{what: "enum in the wrong case", value: strings.ToLower(s["enum"].([]any)[0].(string)), code: PropertyConstraintViolation, lenient: lenientWarns})
		}
		switch s["format"] {
		case formatDateTime:
			for _, v := range []string{"yesterday", "2024-13-06T07:08:09Z", "2024-05-06T25:08:09Z", "2024-05-06", "06.05.2024 07:08:09"} {
				add(mutation{what: "bad date-time", value: v, code: PropertyConstraintViolation})
			}
			add(mutation{what: "loose date-time", value: "2024-05-06 07:08:09", code: PropertyConstraintViolation, lenient: lenientWarns})
		case formatURI:
			add(mutation{what: "relative URI", value: "upload/here", code: PropertyConstraintViolation})
		}
	case "number":
		if _, ok := s["multipleOf"]; ok {
			add(mutation{what: "not a multiple", value: json.Number("16.15"), code: PropertyConstraintViolation, lenient: lenientWarns})
		}
	case "array":
		if _, ok := s["minItems"]; ok {
			add(mutation{what: "too few items", value: []any{}, code: PropertyConstraintViolation})
		}
		o.mutations(s["items"].(map[string]any), at(0), out)
	case "object":
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		for _, r := range required {
			add(mutation{what: "required property left out", path: at(r.(string)), delete: true, code: OccurenceConstraintViolation})
		}
		add(mutation{what: "unknown property", path: at("zzUnknown"), value: "x", code: FormationViolation, lenient: lenientWarns})
		for _, name := range sorted(mapKeys(props)) {
			o.mutations(props[name].(map[string]any), at(name), out)
		}
	}
}

// wrongTypes are values of other JSON types than the key, for each schema type.
var wrongTypes = map[string][]any{
	"string":  {json.Number("42"), true, map[string]any{}, []any{}, nil},
	"integer": {"42", json.Number("4.5"), true, map[string]any{}, nil},
	"number":  {"16.1", false, []any{}, nil},
	"boolean": {"true", json.Number("1"), nil},
	"object":  {"x", []any{}, json.Number("1"), nil},
	"array":   {map[string]any{}, "x", nil},
}

// generate builds a valid document: all properties if full, else the required ones, and for
// each enum the value at variant (modulo its length).
func (o *official) generate(s map[string]any, full bool, variant int) any {
	s = o.resolve(s)
	if e, ok := s["enum"].([]any); ok {
		return e[variant%len(e)]
	}
	switch s["type"] {
	case "string":
		switch s["format"] {
		case formatDateTime:
			return "2024-05-06T07:08:09.123Z"
		case formatURI:
			return "https://example.com/upload"
		}
		if n, ok := s["maxLength"].(json.Number); ok {
			// As long as allowed, and counted in characters: é is two bytes.
			max, _ := strconv.Atoi(string(n))
			return "é" + strings.Repeat("x", max-1)
		}
		return "some text"
	case "integer":
		return json.Number("42")
	case "number":
		return json.Number("16.1")
	case "boolean":
		return true
	case "array":
		n := 0
		if m, ok := s["minItems"].(json.Number); ok {
			n, _ = strconv.Atoi(string(m))
		}
		if full {
			n = max(n, 2)
		}
		items := []any{}
		for range n {
			items = append(items, o.generate(s["items"].(map[string]any), full, variant))
		}
		return items
	case "object":
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		obj := map[string]any{}
		for name, p := range props {
			if full || slices.Contains(required, any(name)) {
				obj[name] = o.generate(p.(map[string]any), full, variant)
			}
		}
		return obj
	}
	panic(fmt.Sprintf("%s: cannot generate %v", o.file, s))
}

func (o *official) maxEnum(s map[string]any) int {
	s = o.resolve(s)
	n := 0
	if e, ok := s["enum"].([]any); ok {
		n = len(e)
	}
	if items, ok := s["items"].(map[string]any); ok {
		n = max(n, o.maxEnum(items))
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for _, p := range props {
			n = max(n, o.maxEnum(p.(map[string]any)))
		}
	}
	return n
}

// edit returns a copy of doc with the mutation made.
func edit(doc any, m mutation) any {
	doc = deepCopy(doc)
	parent := doc
	for _, k := range m.path[:len(m.path)-1] {
		switch k := k.(type) {
		case string:
			parent = parent.(map[string]any)[k]
		case int:
			parent = parent.([]any)[k]
		}
	}
	switch k := m.path[len(m.path)-1].(type) {
	case string:
		if m.delete {
			delete(parent.(map[string]any), k)
		} else {
			parent.(map[string]any)[k] = m.value
		}
	case int:
		parent.([]any)[k] = m.value
	}
	return doc
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, x := range v {
			c[k] = deepCopy(x)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, x := range v {
			c[i] = deepCopy(x)
		}
		return c
	}
	return v
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func renderPath(path []any) string {
	var b strings.Builder
	for i, k := range path {
		switch k := k.(type) {
		case string:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustOracle(t *testing.T, payload []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
