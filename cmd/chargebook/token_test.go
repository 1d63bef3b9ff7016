package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// chargebook runs a command in-process and returns what it printed.
func chargebook(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.Bytes(), err
}

func mustRun(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := chargebook(t, args...)
	if err != nil {
		t.Fatalf("chargebook %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestTokenCommands creates, lists and revokes tokens with the commands, and uses them on a
// real server's REST API.
func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "operator", "create", "--data", dir, "--email", "ops@example.com", "--password", "a long password")
	mustRun(t, "operator", "create", "--data", dir, "--email", "other@example.com", "--password", "a long password")

	var created struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Token string `json:"token"`
	}
	out := mustRun(t, "token", "create", "--data", dir, "--email", "ops@example.com", "--name", "export")
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&created); err != nil {
		t.Fatalf("token create printed %s: %v", out, err)
	}
	if created.ID == 0 || created.Name != "export" || !strings.HasPrefix(created.Token, "cb_") || len(created.Token) != 35 {
		t.Fatalf("token create printed %s", out)
	}
	mustRun(t, "token", "create", "--data", dir, "--email", "ops@example.com")
	otherOut := mustRun(t, "token", "create", "--data", dir, "--email", "other@example.com")
	var other struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal(otherOut, &other); err != nil {
		t.Fatal(err)
	}

	type listed struct {
		ID         int64   `json:"id"`
		Name       string  `json:"name"`
		Prefix     string  `json:"prefix"`
		CreatedAt  string  `json:"createdAt"`
		LastUsedAt *string `json:"lastUsedAt"`
		RevokedAt  *string `json:"revokedAt"`
	}
	list := func() []listed {
		t.Helper()
		out := mustRun(t, "token", "list", "--data", dir, "--email", "ops@example.com")
		if bytes.Contains(out, []byte(created.Token[3:])) {
			t.Fatalf("token list shows the secret: %s", out)
		}
		var l []listed
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("token list printed %s: %v", out, err)
		}
		return l
	}
	l := list()
	if len(l) != 2 || l[0].ID != created.ID || l[0].Name != "export" || l[1].Name != "" ||
		!strings.HasPrefix(created.Token, l[0].Prefix) || len(l[0].Prefix) < 4 || l[0].CreatedAt == "" ||
		l[0].LastUsedAt != nil || l[0].RevokedAt != nil {
		t.Fatalf("token list: %+v", l)
	}

	// The token works on a real server, and no longer once revoked.
	_, addr := startServer(t, dir)
	get := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/stations", created.Token); code != http.StatusOK || strings.TrimSpace(body) != `{"stations":[]}` {
		t.Errorf("GET /api/v1/stations: %d %s", code, body)
	}
	if code, body := get("/api/v1/openapi.json", ""); code != http.StatusOK || !strings.Contains(body, `"openapi"`) {
		t.Errorf("GET /api/v1/openapi.json: %d %.100s", code, body)
	}
	if l := list(); l[0].LastUsedAt == nil {
		t.Error("last used is not recorded")
	}

	idArg := strconv.FormatInt(created.ID, 10)
	out = mustRun(t, "token", "revoke", "--data", dir, "--email", "ops@example.com", "--id", idArg)
	var revoked listed
	if err := json.Unmarshal(out, &revoked); err != nil || revoked.ID != created.ID || revoked.RevokedAt == nil {
		t.Errorf("token revoke printed %s", out)
	}
	if code, body := get("/api/v1/stations", created.Token); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d %s", code, body)
	}
	if l := list(); l[0].RevokedAt == nil || l[1].RevokedAt != nil {
		t.Errorf("after revoking: %+v", l)
	}
	mustRun(t, "token", "revoke", "--data", dir, "--email", "ops@example.com", "--id", idArg) // again: no error

	for _, tc := range []struct {
		args     []string
		mentions string
	}{
		{[]string{"token", "revoke", "--data", dir, "--email", "ops@example.com"}, "--id"},
		{[]string{"token", "revoke", "--data", dir, "--email", "ops@example.com", "--id", "999"}, "no token 999"},
		{[]string{"token", "revoke", "--data", dir, "--email", "ops@example.com", "--id", strconv.FormatInt(other.ID, 10)}, "no token"},
		{[]string{"token", "create", "--data", dir, "--email", "nobody@example.com"}, "no operator"},
		{[]string{"token", "create", "--data", dir}, "--email"},
		{[]string{"token", "list", "--data", dir}, "--email"},
		{[]string{"token"}, "unknown command"},
		{[]string{"token", "delete"}, "unknown command"},
	} {
		if _, err := chargebook(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.mentions) {
			t.Errorf("chargebook %s: error %v, want one mentioning %q", strings.Join(tc.args, " "), err, tc.mentions)
		}
	}
	if code, _ := get("/api/v1/stations", other.Token); code != http.StatusOK {
		t.Errorf("the other account's token was revoked by a revoke of the first account: %d", code)
	}
}
