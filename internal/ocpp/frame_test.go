package ocpp

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseFrame(t *testing.T) {
	long := strings.Repeat("x", MaxMessageIDLength)
	tests := []struct {
		in   string
		want Frame
		code ErrorCode // "": valid
	}{
		{in: `[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"M1"}]`,
			want: Frame{Type: Call, ID: "19223201", Action: "BootNotification",
				Payload: json.RawMessage(`{"chargePointVendor":"VendorX","chargePointModel":"M1"}`)}},
		{in: " [ 2 , \"a\" , \"Heartbeat\" , { } ] \n",
			want: Frame{Type: Call, ID: "a", Action: "Heartbeat", Payload: json.RawMessage(`{ }`)}},
		{in: `[2,"` + long + `","Heartbeat",{}]`,
			want: Frame{Type: Call, ID: long, Action: "Heartbeat", Payload: json.RawMessage(`{}`)}},
		{in: `[3,"19223201",{"status":"Accepted","currentTime":"2024-05-06T07:08:09Z","interval":300}]`,
			want: Frame{Type: CallResult, ID: "19223201",
				Payload: json.RawMessage(`{"status":"Accepted","currentTime":"2024-05-06T07:08:09Z","interval":300}`)}},
		{in: `[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]`,
			want: Frame{Type: CallError, ID: "162376037", ErrorCode: NotSupported,
				ErrorDescription: "SetDisplayMessageRequest not implemented", ErrorDetails: json.RawMessage(`{}`)}},
		{in: `[4,"1","VendorSpecific","",{"a":1}]`,
			want: Frame{Type: CallError, ID: "1", ErrorCode: "VendorSpecific", ErrorDetails: json.RawMessage(`{"a":1}`)}},

		// Not JSON, not an array.
		{in: ``, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `[2,"1","Heartbeat",{}`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `[2,"1","Heartbeat",{}]]`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `{"2":"1"}`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `"[2]"`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `null`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		// Wrong element counts.
		{in: `[]`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `[2,"1"]`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `[2,"1","Heartbeat"]`, want: Frame{Type: Call, ID: "1"}, code: FormationViolation},
		{in: `[2,"1","Heartbeat",{},{}]`, want: Frame{Type: Call, ID: "1"}, code: FormationViolation},
		{in: `[3,"1",{},{}]`, want: Frame{Type: CallResult, ID: "1"}, code: FormationViolation},
		{in: `[4,"1","GenericError","",{},1]`, want: Frame{Type: CallError, ID: "1"}, code: FormationViolation},
		{in: `[4,"1","GenericError",{}]`, want: Frame{Type: CallError, ID: "1"}, code: FormationViolation},
		// Bad message type ids.
		{in: `[5,"1",{}]`, want: Frame{Type: 5, ID: "1"}, code: ProtocolError},
		{in: `[0,"1","Heartbeat",{}]`, want: Frame{Type: 0, ID: "1"}, code: ProtocolError},
		{in: `["2","1","Heartbeat",{}]`, want: Frame{ID: "1"}, code: FormationViolation},
		{in: `[2.0,"1","Heartbeat",{}]`, want: Frame{ID: "1"}, code: FormationViolation},
		// Bad message ids.
		{in: `[2,"` + long + `x","Heartbeat",{}]`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `[2,"","Heartbeat",{}]`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `[2,1,"Heartbeat",{}]`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		{in: `[2,null,"Heartbeat",{}]`, want: Frame{ID: UnknownMessageID}, code: FormationViolation},
		// Bad CALL, CALLRESULT and CALLERROR elements.
		{in: `[2,"1","",{}]`, want: Frame{Type: Call, ID: "1"}, code: FormationViolation},
		{in: `[2,"1",7,{}]`, want: Frame{Type: Call, ID: "1"}, code: FormationViolation},
		{in: `[2,"1","Heartbeat",[]]`, want: Frame{Type: Call, ID: "1", Action: "Heartbeat"}, code: FormationViolation},
		{in: `[2,"1","Heartbeat",null]`, want: Frame{Type: Call, ID: "1", Action: "Heartbeat"}, code: FormationViolation},
		{in: `[3,"1","{}"]`, want: Frame{Type: CallResult, ID: "1"}, code: FormationViolation},
		{in: `[4,"1",1,"",{}]`, want: Frame{Type: CallError, ID: "1"}, code: FormationViolation},
		{in: `[4,"1","GenericError",null,{}]`, want: Frame{Type: CallError, ID: "1"}, code: FormationViolation},
		{in: `[4,"1","GenericError","",[]]`, want: Frame{Type: CallError, ID: "1"}, code: FormationViolation},
	}
	for _, tt := range tests {
		got, err := ParseFrame([]byte(tt.in))
		if tt.code == "" && err != nil || tt.code != "" && (err == nil || err.Code != tt.code) {
			t.Errorf("ParseFrame(%s): error %v, want code %q", tt.in, err, tt.code)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFrame(%s) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestAppendFrames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{string(AppendCall(nil, "1", "Heartbeat", []byte(`{}`))), `[2,"1","Heartbeat",{}]`},
		{string(AppendCall([]byte("x"), `a"b`, "Authorize", []byte(`{"idTag":"A"}`))), `x[2,"a\"b","Authorize",{"idTag":"A"}]`},
		{string(AppendCallResult(nil, "1", []byte(`{"currentTime":"2024-05-06T07:08:09.000Z"}`))),
			`[3,"1",{"currentTime":"2024-05-06T07:08:09.000Z"}]`},
		{string(AppendCallError(nil, "1", Errorf(NotImplemented, "unknown action %q", "Foo"))),
			`[4,"1","NotImplemented","unknown action \"Foo\"",{}]`},
		{string(AppendCallError(nil, "1", &Error{Code: "Bogus", Details: map[string]any{"k": "v"}})),
			`[4,"1","GenericError","",{"k":"v"}]`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestAppendCallErrorShortensDescription(t *testing.T) {
	tests := []struct {
		name string
		desc string
	}{
		{"ascii", strings.Repeat("a", 300)},
		{"multi-byte rune across the limit", strings.Repeat("a", maxErrorDescription-1) + "€€€"},
		// Invalid UTF-8 early on must not make the whole description go.
		{"invalid UTF-8 before the limit", "\xff" + strings.Repeat("a", 300)},
	}
	for _, tt := range tests {
		f, err := ParseFrame(AppendCallError(nil, "1", Errorf(GenericError, "%s", tt.desc)))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(f.ErrorDescription) > maxErrorDescription+2 || len(f.ErrorDescription) < maxErrorDescription-3 {
			t.Errorf("%s: description of %d bytes, want about %d", tt.name, len(f.ErrorDescription), maxErrorDescription)
		}
		if !utf8.ValidString(f.ErrorDescription) {
			t.Errorf("%s: description is not UTF-8: %q", tt.name, f.ErrorDescription)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"M1"}]`,
		`[2,"a","Heartbeat",{}]`,
		`[2,"b","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-05-06T07:08:09Z","sampledValue":[{"value":"1"}]}]}]`,
		`[3,"19223201",{"status":"Accepted","currentTime":"2024-05-06T07:08:09Z","interval":300}]`,
		`[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]`,
		`[4,"1","GenericError","\u00e9",{"a":[1,2]}]`,
		`[5,"1",{}]`, `[2,"1"]`, `null`, `[]`, `{}`, `[2,"1","Heartbeat",{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := ParseFrame(data)
		if err != nil {
			if !err.Code.Valid() {
				t.Fatalf("invalid error code %q", err.Code)
			}
			if fr.ID != UnknownMessageID && (fr.ID == "" || len(fr.ID) > MaxMessageIDLength) {
				t.Fatalf("error frame has message id %q", fr.ID)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON")
		}
		var again []byte
		switch fr.Type {
		case Call:
			again = AppendCall(nil, fr.ID, fr.Action, fr.Payload)
		case CallResult:
			again = AppendCallResult(nil, fr.ID, fr.Payload)
		case CallError:
			var details map[string]any
			if err := decodeJSON(fr.ErrorDetails, &details); err != nil {
				t.Fatalf("errorDetails %s: %v", fr.ErrorDetails, err)
			}
			again = AppendCallError(nil, fr.ID, &Error{Code: fr.ErrorCode, Description: fr.ErrorDescription, Details: details})
		default:
			t.Fatalf("accepted message type %d", fr.Type)
		}
		fr2, err := ParseFrame(again)
		if err != nil {
			t.Fatalf("re-encoded frame %s: %v", again, err)
		}
		if fr.Type == CallError {
			// What the sender put in a CALLERROR is passed on only as far as it is valid.
			if !fr.ErrorCode.Valid() {
				fr.ErrorCode = GenericError
			}
			if len(fr.ErrorDescription) > maxErrorDescription || !utf8.ValidString(fr.ErrorDescription) {
				fr.ErrorDescription = fr2.ErrorDescription
			}
		}
		if fr.ID != fr2.ID || fr.Type != fr2.Type || fr.Action != fr2.Action || !bytes.Equal(fr.Payload, fr2.Payload) ||
			fr.ErrorCode != fr2.ErrorCode || fr.ErrorDescription != fr2.ErrorDescription || !jsonEqual(fr.ErrorDetails, fr2.ErrorDetails) {
			t.Fatalf("round trip changed the frame:\n%+v\n%+v", fr, fr2)
		}
	})
}

// decodeJSON decodes with numbers kept as written, so that no number is out of range.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// jsonEqual compares two JSON documents by value, so that white space and key order do not
// matter.
func jsonEqual(a, b []byte) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var va, vb any
	return decodeJSON(a, &va) == nil && decodeJSON(b, &vb) == nil && reflect.DeepEqual(va, vb)
}
