package loadtest

import (
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// Every frame the generator builds must pass the server's strict validation, or the load
// would measure CALLERRORs.
func TestFramesValidate(t *testing.T) {
	now := time.Date(2025, 3, 1, 10, 0, 0, 123e6, time.UTC)
	id := []byte("42")
	for _, f := range [][]byte{
		bootNotification(nil, id, "LOAD-000001"),
		bootNotification(nil, id, "A-VERY-LONG-CHARGE-POINT-IDENTIFIER-0001"),
		statusNotification(nil, id, 0, "Available", now),
		statusNotification(nil, id, 1, "Charging", now),
		heartbeat(nil, id),
		startTransaction(nil, id, "LOADTAG", 123456, now),
		stopTransaction(nil, id, 77, 123999, now),
		meterValues(nil, id, 77, 123456, 11042, 57, now),
		meterValues(nil, id, 77, 0, 0, 0, now),
	} {
		fr, err := ocpp.ParseFrame(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if fr.Type != ocpp.Call || fr.ID != "42" {
			t.Fatalf("%s: parsed as %+v", f, fr)
		}
		if _, warnings, err := ocpp.DecodeRequest(fr.Action, fr.Payload, ocpp.Strict); err != nil || len(warnings) > 0 {
			t.Errorf("%s: %v %v", f, err, warnings)
		}
	}
	mv, _, _ := ocpp.DecodeRequest("MeterValues", must(ocpp.ParseFrame(meterValues(nil, id, 77, 123456, 11042, 57, now))).Payload, ocpp.Strict)
	svs := mv.(*ocpp.MeterValuesRequest).MeterValue[0].SampledValue
	if len(svs) != 4 || svs[0].Value != "123456" || svs[1].Value != "11042" || svs[2].Value != "16.0" || svs[3].Value != "57" {
		t.Errorf("sampled values %+v", svs)
	}
	e := callErrorNotSupported(nil, []byte("abc"))
	if fr, err := ocpp.ParseFrame(e); err != nil || fr.Type != ocpp.CallError || fr.ErrorCode != ocpp.NotSupported {
		t.Errorf("%s: %+v %v", e, fr, err)
	}
}

func must(f ocpp.Frame, err *ocpp.Error) ocpp.Frame {
	if err != nil {
		panic(err)
	}
	return f
}

func TestParseReply(t *testing.T) {
	for _, c := range []struct {
		in      string
		typ     byte
		id, pay string
	}{
		{`[3,"17",{"transactionId":5,"idTagInfo":{"status":"Accepted"}}]`, '3', "17", `{"transactionId":5,"idTagInfo":{"status":"Accepted"}}`},
		{` [ 3 , "17" , {} ] `, '3', "17", `{}`},
		{`[4,"9","InternalError","x",{}]`, '4', "9", `"InternalError","x",{}`},
		{`[2,"a","Reset",{"type":"Soft"}]`, '2', "a", `"Reset",{"type":"Soft"}`},
		{`[5,"1",{}]`, 0, "", ""},
		{`[3,1,{}]`, 0, "", ""},
		{`nonsense`, 0, "", ""},
	} {
		r := parseReply([]byte(c.in))
		if r.typ != c.typ || string(r.id) != c.id || string(r.payload) != c.pay {
			t.Errorf("%s: %c %q %q", c.in, r.typ, r.id, r.payload)
		}
	}
	if v, ok := intField([]byte(`{"idTagInfo":{"status":"Accepted"},"transactionId": 1234}`), "transactionId"); !ok || v != 1234 {
		t.Errorf("transactionId %d %v", v, ok)
	}
	if _, ok := intField([]byte(`{}`), "transactionId"); ok {
		t.Error("found a missing field")
	}
}

func BenchmarkMeterValuesFrame(b *testing.B) {
	buf := make([]byte, 0, 1024)
	id := []byte("123456")
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		buf = meterValues(buf[:0], id, 77, int64(i), 11000, 50, now)
	}
}

// parseReply reads what the server sends; it must not panic on anything, and what it finds
// must lie within the frame.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{`[3,"17",{}]`, `[4,"9","InternalError","x",{}]`, `[2,"a","Reset",{"type":"Soft"}]`, `[`, `[3,"`, `["3","1",{}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := parseReply(b)
		if r.typ != 0 && (len(r.id) > len(b) || len(r.payload) > len(b)) {
			t.Fatalf("%q: %+v", b, r)
		}
		intField(b, "transactionId")
	})
}
