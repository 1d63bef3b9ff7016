package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chargebook/chargebook/internal/api"
)

// openAPIDoc is the document as served, decoded with numbers kept as text.
type openAPIDoc struct {
	root map[string]any
}

func loadOpenAPI(t *testing.T, e *env) openAPIDoc {
	t.Helper()
	r := e.do("GET", "/api/v1/openapi.json", "", "") // served without a token
	if r.status != http.StatusOK {
		t.Fatalf("openapi.json: %d %s", r.status, r.body)
	}
	file, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.body, file) {
		t.Error("the served document is not openapi.json")
	}
	doc := openAPIDoc{root: r.json(t)}
	if v, _ := doc.root["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Fatalf("openapi version %q", v)
	}
	return doc
}

// resolve follows a local $ref ("#/components/schemas/X").
func (d openAPIDoc) resolve(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	for {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		var cur any = d.root
		for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("$ref %s does not resolve", ref)
			}
			if cur, ok = m[p]; !ok {
				t.Fatalf("$ref %s does not resolve at %q", ref, p)
			}
		}
		v = cur.(map[string]any)
	}
}

// serverBase is the path of the document's server, which its paths are relative to.
func (d openAPIDoc) serverBase(t *testing.T) string {
	t.Helper()
	servers, _ := d.root["servers"].([]any)
	if len(servers) != 1 {
		t.Fatalf("servers: %v", servers)
	}
	return servers[0].(map[string]any)["url"].(string)
}

// operation returns the operation of a path (as in the document) and method, and the
// parameters that apply to it (of the path and of the operation).
func (d openAPIDoc) operation(t *testing.T, path, method string) (op map[string]any, params []map[string]any, ok bool) {
	t.Helper()
	paths := d.root["paths"].(map[string]any)
	item, found := paths[path].(map[string]any)
	if !found {
		return nil, nil, false
	}
	op, found = item[strings.ToLower(method)].(map[string]any)
	if !found {
		return nil, nil, false
	}
	for _, list := range []any{item["parameters"], op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			params = append(params, d.resolve(t, p.(map[string]any)))
		}
	}
	return op, params, true
}

var wildcard = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIMatchesRoutes: every route is in the document with its path and query
// parameters, and every operation of the document is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	doc := loadOpenAPI(t, e)
	base := doc.serverBase(t)
	if base+"/" != api.Prefix {
		t.Fatalf("server URL %q, routes start with %q", base, api.Prefix)
	}
	methods := []string{"get", "put", "post", "patch", "delete", "head", "options"}
	routes := make(map[string]api.Route)
	for _, rt := range e.api.Routes() {
		routes[rt.Method+" "+rt.Path] = rt
		path, ok := strings.CutPrefix(rt.Path, base)
		if !ok {
			t.Errorf("route %s %s is not under %s", rt.Method, rt.Path, base)
			continue
		}
		what := rt.Method + " " + rt.Path
		op, params, ok := doc.operation(t, path, rt.Method)
		if !ok {
			t.Errorf("route %s is not in openapi.json", what)
			continue
		}
		var docQuery, docPath []string
		for _, p := range params {
			name, _ := p["name"].(string)
			switch p["in"] {
			case "query":
				docQuery = append(docQuery, name)
			case "path":
				docPath = append(docPath, name)
				if p["required"] != true {
					t.Errorf("%s: path parameter %s is not required", what, name)
				}
			}
			if _, ok := p["schema"].(map[string]any); !ok {
				t.Errorf("%s: parameter %s has no schema", what, name)
			}
		}
		var routePath []string
		for _, m := range wildcard.FindAllStringSubmatch(rt.Path, -1) {
			routePath = append(routePath, m[1])
		}
		if !sameSet(docQuery, rt.Query) {
			t.Errorf("%s: documented query parameters %v, the route takes %v", what, docQuery, rt.Query)
		}
		if !sameSet(docPath, routePath) {
			t.Errorf("%s: documented path parameters %v, the route has %v", what, docPath, routePath)
		}
		security, hasSecurity := op["security"].([]any)
		if rt.Public != (hasSecurity && len(security) == 0) {
			t.Errorf("%s: public %v, but the document's security is %v", what, rt.Public, op["security"])
		}
		responses, _ := op["responses"].(map[string]any)
		if !rt.Public {
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s: no 401 documented", what)
			}
		}
		if rt.Method == "PUT" || rt.Method == "PATCH" || rt.Method == "POST" {
			if _, ok := op["requestBody"]; !ok {
				t.Errorf("%s: no request body documented", what)
			}
		}
	}
	for path, item := range doc.root["paths"].(map[string]any) {
		for _, m := range methods {
			if _, ok := item.(map[string]any)[m]; !ok {
				continue
			}
			if _, ok := routes[strings.ToUpper(m)+" "+base+path]; !ok {
				t.Errorf("openapi.json has %s %s, which is no route", strings.ToUpper(m), path)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestOpenAPIDescribesResponses sends requests to a test server and checks each answer
// against the schema the document gives for its path, method and status: every property
// documented, every required one present, of the documented type.
func TestOpenAPIDescribesResponses(t *testing.T) {
	e := newEnv(t)
	f := e.seed()
	doc := loadOpenAPI(t, e)
	base := doc.serverBase(t)
	cp := e.dial("CP-LIVE")
	cp.boot()
	cp.call("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"2025-03-01T10:00:00Z"}`)
	e.call("PUT", "/api/v1/id-tags/CARD", `{"parentIdTag":"P","expiresAt":"2030-01-01T00:00:00Z"}`, http.StatusCreated)

	stopped := itoa(f.stopped.ID)
	for _, tc := range []struct {
		method, path, token, body string
	}{
		{"GET", "/api/v1/stations", e.token, ""},
		{"GET", "/api/v1/stations/CP-1", e.token, ""},
		{"GET", "/api/v1/stations/CP-LIVE", e.token, ""},
		{"GET", "/api/v1/stations/CP-2", e.token, ""},
		{"PATCH", "/api/v1/stations/CP-2", e.token, `{"registration":"Accepted"}`},
		{"GET", "/api/v1/stations/CP-1/events", e.token, ""},
		{"GET", "/api/v1/stations/CP-LIVE/events", e.token, ""},
		{"GET", "/api/v1/stations/CP-1/status-history", e.token, ""},
		{"GET", "/api/v1/transactions", e.token, ""},
		{"GET", "/api/v1/transactions/" + stopped, e.token, ""},
		{"GET", "/api/v1/transactions/" + itoa(f.active.ID), e.token, ""},
		{"GET", "/api/v1/transactions/" + stopped + "/meter-values", e.token, ""},
		{"GET", "/api/v1/id-tags", e.token, ""},
		{"GET", "/api/v1/id-tags/CARD", e.token, ""},
		{"PUT", "/api/v1/id-tags/CARD", e.token, `{"blocked":true}`},
		{"PUT", "/api/v1/id-tags/NEW", e.token, `{}`},
		{"PATCH", "/api/v1/id-tags/CARD", e.token, `{"expiresAt":null}`},
		// Errors.
		{"GET", "/api/v1/stations", "", ""},
		{"GET", "/api/v1/stations/CP-9", e.token, ""},
		{"PATCH", "/api/v1/stations/CP-1", e.token, `{"registration":"x"}`},
		{"GET", "/api/v1/transactions?limit=x", e.token, ""},
		{"GET", "/api/v1/transactions/x", e.token, ""},
		{"PATCH", "/api/v1/id-tags/NONE", e.token, `{}`},
	} {
		what := fmt.Sprintf("%s %s", tc.method, tc.path)
		r := e.do(tc.method, tc.path, tc.token, tc.body)
		docPath := matchDocPath(t, doc, strings.TrimPrefix(strings.SplitN(tc.path, "?", 2)[0], base))
		op, _, ok := doc.operation(t, docPath, tc.method)
		if !ok {
			t.Errorf("%s: no operation in the document", what)
			continue
		}
		resp, ok := op["responses"].(map[string]any)[fmt.Sprint(r.status)].(map[string]any)
		if !ok {
			t.Errorf("%s: status %d is not documented: %s", what, r.status, r.body)
			continue
		}
		resp = doc.resolve(t, resp)
		media, _ := resp["content"].(map[string]any)["application/json"].(map[string]any)
		schema, _ := media["schema"].(map[string]any)
		if schema == nil {
			t.Errorf("%s: %d has no application/json schema", what, r.status)
			continue
		}
		var body any
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		for _, problem := range checkSchema(t, doc, schema, body, "body") {
			t.Errorf("%s: %s", what, problem)
		}
	}
}

// matchDocPath finds the document's path template that a concrete path matches.
func matchDocPath(t *testing.T, doc openAPIDoc, path string) string {
	t.Helper()
	segs := strings.Split(path, "/")
	for tmpl := range doc.root["paths"].(map[string]any) {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i := range ts {
			if ts[i] != segs[i] && !wildcard.MatchString(ts[i]) {
				match = false
				break
			}
		}
		if match {
			return tmpl
		}
	}
	t.Fatalf("no path of the document matches %s", path)
	return ""
}

// checkSchema is a minimal OpenAPI 3.0 schema checker for what openapi.json uses: $ref,
// allOf, type object/array/string/integer/number/boolean, properties, required, items,
// enum, nullable. It is stricter than JSON Schema in one way: an object must have no
// property its schema does not document (unless the schema lists no properties at all).
func checkSchema(t *testing.T, doc openAPIDoc, schema map[string]any, v any, at string) []string {
	t.Helper()
	schema = doc.resolve(t, schema)
	if all, ok := schema["allOf"].([]any); ok {
		merged := map[string]any{"type": "object", "properties": map[string]any{}, "required": []any{}}
		for _, s := range all {
			sub := doc.resolve(t, s.(map[string]any))
			for k, p := range sub["properties"].(map[string]any) {
				merged["properties"].(map[string]any)[k] = p
			}
			req, _ := sub["required"].([]any)
			merged["required"] = append(merged["required"].([]any), req...)
		}
		schema = merged
	}
	typ, _ := schema["type"].(string)
	if v == nil {
		if schema["nullable"] == true || typ == "" {
			return nil
		}
		return []string{at + ": null, but not nullable"}
	}
	var problems []string
	bad := func(format string, args ...any) []string {
		return append(problems, at+": "+fmt.Sprintf(format, args...))
	}
	switch typ {
	case "":
		return nil // any value
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("%T, want an object", v)
		}
		props, _ := schema["properties"].(map[string]any)
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				problems = bad("required property %q missing", r)
			}
		}
		if props == nil {
			return problems
		}
		for k, pv := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				problems = bad("property %q is not documented", k)
				continue
			}
			problems = append(problems, checkSchema(t, doc, ps, pv, at+"."+k)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return bad("%T, want an array", v)
		}
		items, _ := schema["items"].(map[string]any)
		for i, x := range arr {
			problems = append(problems, checkSchema(t, doc, items, x, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return bad("%T, want a string", v)
		}
		if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, any(s)) {
			problems = bad("%q is not one of %v", s, enum)
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return bad("%T, want a %s", v, typ)
		}
		if typ == "integer" && strings.ContainsAny(string(n), ".eE") {
			problems = bad("%s, want an integer", n)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("%T, want a boolean", v)
		}
	default:
		return bad("schema type %q unknown to the checker", typ)
	}
	return problems
}

// TestSchemaChecker makes sure the checker catches what it is there to catch.
func TestSchemaChecker(t *testing.T) {
	e := newEnv(t)
	doc := loadOpenAPI(t, e)
	tag := map[string]any{"$ref": "#/components/schemas/IdTag"}
	good := `{"idTag":"A","parentIdTag":null,"expiresAt":null,"blocked":false,"known":true,"userId":null,"status":"Accepted","firstSeenAt":null,"lastSeenAt":"2025-03-01T10:00:00Z"}`
	for _, tc := range []struct {
		body     string
		problems int
	}{
		{good, 0},
		{strings.Replace(good, `"known":true`, `"known":true,"extra":1`, 1), 1},
		{strings.Replace(good, `"known":true,`, ``, 1), 1},
		{strings.Replace(good, `"blocked":false`, `"blocked":null`, 1), 1},
		{strings.Replace(good, `"status":"Accepted"`, `"status":"Maybe"`, 1), 1},
		{strings.Replace(good, `"idTag":"A"`, `"idTag":1`, 1), 1},
	} {
		var v any
		dec := json.NewDecoder(strings.NewReader(tc.body))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if got := checkSchema(t, doc, tag, v, "body"); len(got) != tc.problems {
			t.Errorf("%s: problems %v, want %d", tc.body, got, tc.problems)
		}
	}
}
