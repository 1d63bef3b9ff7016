package ocpp

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// meterValues is a MeterValues payload as a charger sends it every minute of a session.
const meterValues = `{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2024-05-06T07:08:09.123Z","sampledValue":[` +
	`{"value":"1234.567","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","unit":"kWh"},` +
	`{"value":"7200","context":"Sample.Periodic","measurand":"Power.Active.Import","unit":"W"},` +
	`{"value":"31.5","context":"Sample.Periodic","measurand":"Current.Import","phase":"L1","unit":"A"},` +
	`{"value":"80","context":"Sample.Periodic","measurand":"SoC","location":"EV","unit":"Percent"}]}]}`

func TestDecodeMeterValues(t *testing.T) {
	got, warnings, err := DecodeRequest("MeterValues", []byte(meterValues), Strict)
	if err != nil || warnings != nil {
		t.Fatalf("DecodeRequest: %v, warnings %q", err, warnings)
	}
	txID := 42
	want := &MeterValuesRequest{ConnectorID: 1, TransactionID: &txID, MeterValue: []MeterValue{{
		Timestamp: DateTime{time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)},
		SampledValue: []SampledValue{
			{Value: "1234.567", Context: ReadingContextSamplePeriodic, Measurand: MeasurandEnergyActiveImportRegister, Unit: UnitOfMeasureKWh},
			{Value: "7200", Context: ReadingContextSamplePeriodic, Measurand: MeasurandPowerActiveImport, Unit: UnitOfMeasureW},
			{Value: "31.5", Context: ReadingContextSamplePeriodic, Measurand: MeasurandCurrentImport, Phase: PhaseL1, Unit: UnitOfMeasureA},
			{Value: "80", Context: ReadingContextSamplePeriodic, Measurand: MeasurandSoC, Location: LocationEV, Unit: UnitOfMeasurePercent},
		},
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	b, err := EncodePayload(got)
	if err != nil || !jsonEqual(b, []byte(meterValues)) {
		t.Errorf("EncodePayload = %s, %v; want %s", b, err, meterValues)
	}
}

func TestDecodeErrors(t *testing.T) {
	const mv = `{"connectorId":1,"meterValue":[{"timestamp":"2024-05-06T07:08:09Z","sampledValue":[{"value":"1"},%s]}]}`
	sv := func(s string) string { return strings.Replace(mv, "%s", s, 1) }
	const gcs = `{"status":"Accepted","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":%s}]}}`
	tests := []struct {
		action   string
		response bool
		payload  string
		code     ErrorCode
		desc     string // the start of the description
	}{
		{action: "Foo", payload: `{}`, code: NotImplemented, desc: `unknown action "Foo"`},
		{action: "FooResponse", response: true, payload: `{}`, code: NotImplemented},
		{action: "heartbeat", payload: `{}`, code: NotImplemented},

		// Not JSON, or not an object.
		{action: "Heartbeat", payload: ``, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Heartbeat", payload: `{`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Heartbeat", payload: `{}}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Heartbeat", payload: `{} {}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Heartbeat", payload: `[]`, code: FormationViolation, desc: "payload is not a JSON object"},
		{action: "Heartbeat", payload: `null`, code: FormationViolation, desc: "payload is not a JSON object"},
		{action: "Heartbeat", payload: `"{}"`, code: FormationViolation, desc: "payload is not a JSON object"},
		{action: "Authorize", payload: `{"idTag":"A",}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Authorize", payload: `{"idTag":"A\x01"}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Authorize", payload: `{"idTag":"\q"}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Authorize", payload: `{"idTag":"\u12"}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Authorize", payload: `{idTag:"A"}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "StartTransaction", payload: `{"connectorId":01}`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "KeyValue", payload: `{}`, code: NotImplemented},
		// A schema error before a syntax error: the syntax error wins, the payload is no JSON.
		{action: "Authorize", payload: `{"idTag":1,`, code: FormationViolation, desc: "payload is not valid JSON"},
		{action: "Authorize", payload: `{"foo":1 "idTag":"A"}`, code: FormationViolation, desc: "payload is not valid JSON"},

		// Properties the schema does not have, or has once.
		{action: "Heartbeat", payload: `{"x":1}`, code: FormationViolation, desc: "x: unknown property"},
		{action: "Authorize", payload: `{"idTag":"A","IdTag":"A"}`, code: FormationViolation, desc: "IdTag: unknown property"},
		{action: "MeterValues", payload: sv(`{"value":"2","phase":"L1","foo":{}}`), code: FormationViolation,
			desc: "meterValue[0].sampledValue[1].foo: unknown property"},
		{action: "Authorize", payload: `{"idTag":"A","idTag":"B"}`, code: FormationViolation, desc: "idTag: property appears twice"},

		// Required properties.
		{action: "Authorize", payload: `{}`, code: OccurenceConstraintViolation, desc: "idTag: required property is missing"},
		{action: "BootNotification", payload: `{"chargePointVendor":"V"}`, code: OccurenceConstraintViolation,
			desc: "chargePointModel: required property is missing"},
		{action: "MeterValues", payload: sv(`{"unit":"Wh"}`), code: OccurenceConstraintViolation,
			desc: "meterValue[0].sampledValue[1].value: required property is missing"},
		{action: "Authorize", response: true, payload: `{"idTagInfo":{}}`, code: OccurenceConstraintViolation,
			desc: "idTagInfo.status: required property is missing"},

		// Types.
		{action: "StartTransaction", payload: `{"connectorId":"1"}`, code: TypeConstraintViolation, desc: "connectorId: expected integer, got string"},
		{action: "StartTransaction", payload: `{"connectorId":1.5}`, code: TypeConstraintViolation, desc: "connectorId: expected integer, got 1.5"},
		{action: "StartTransaction", payload: `{"connectorId":1.0}`, code: TypeConstraintViolation, desc: "connectorId: expected integer"},
		{action: "StartTransaction", payload: `{"connectorId":1e2}`, code: TypeConstraintViolation, desc: "connectorId: expected integer"},
		{action: "StartTransaction", payload: `{"connectorId":null}`, code: TypeConstraintViolation, desc: "connectorId: expected integer, got null"},
		{action: "StartTransaction", payload: `{"reservationId":null}`, code: TypeConstraintViolation, desc: "reservationId: expected integer, got null"},
		{action: "Authorize", payload: `{"idTag":{"id":"A"}}`, code: TypeConstraintViolation, desc: "idTag: expected string, got object"},
		{action: "Authorize", payload: `{"idTag":12345}`, code: TypeConstraintViolation, desc: "idTag: expected string, got number"},
		{action: "Authorize", payload: `{"idTag":true}`, code: TypeConstraintViolation, desc: "idTag: expected string, got boolean"},
		{action: "Authorize", response: true, payload: `{"idTagInfo":[]}`, code: TypeConstraintViolation, desc: "idTagInfo: expected object, got array"},
		{action: "MeterValues", payload: `{"connectorId":1,"meterValue":{}}`, code: TypeConstraintViolation, desc: "meterValue: expected array, got object"},
		{action: "MeterValues", payload: sv(`"2"`), code: TypeConstraintViolation, desc: "meterValue[0].sampledValue[1]: expected object, got string"},
		{action: "GetConfiguration", response: true, payload: `{"configurationKey":[{"key":"K","readonly":"true"}]}`,
			code: TypeConstraintViolation, desc: "configurationKey[0].readonly: expected boolean, got string"},
		{action: "GetConfiguration", payload: `{"key":["a",1]}`, code: TypeConstraintViolation, desc: "key[1]: expected string, got number"},
		{action: "GetCompositeSchedule", response: true, payload: strings.Replace(gcs, "%s", `"16"`, 1),
			code: TypeConstraintViolation, desc: "chargingSchedule.chargingSchedulePeriod[0].limit: expected number, got string"},

		// Constraints.
		{action: "MeterValues", payload: sv(`{"value":"2","measurand":"Foo"}`), code: PropertyConstraintViolation,
			desc: `meterValue[0].sampledValue[1].measurand: "Foo" is not one of Energy.Active.Export.Register, `},
		{action: "StopTransaction", payload: `{"transactionId":1,"meterStop":2,"timestamp":"2024-05-06T07:08:09Z",` +
			`"transactionData":[{"timestamp":"2024-05-06T07:08:09Z","sampledValue":[{"value":"50","unit":"Hertz"}]}]}`,
			code: PropertyConstraintViolation, desc: `transactionData[0].sampledValue[0].unit: "Hertz" is not one of`},
		{action: "Authorize", payload: `{"idTag":"` + strings.Repeat("x", 21) + `"}`, code: PropertyConstraintViolation,
			desc: "idTag: 21 characters, at most 20 allowed"},
		{action: "Authorize", payload: `{"idTag":"` + strings.Repeat("é", 21) + `"}`, code: PropertyConstraintViolation,
			desc: "idTag: 21 characters, at most 20 allowed"},
		{action: "GetConfiguration", payload: `{"key":["` + strings.Repeat("k", 51) + `"]}`, code: PropertyConstraintViolation,
			desc: "key[0]: 51 characters, at most 50 allowed"},
		{action: "StartTransaction", payload: `{"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"yesterday"}`,
			code: PropertyConstraintViolation, desc: `timestamp: "yesterday" is not an RFC 3339 date-time`},
		{action: "StartTransaction", payload: `{"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"2024-05-06 07:08:09"}`,
			code: PropertyConstraintViolation, desc: `timestamp: "2024-05-06 07:08:09" is not an RFC 3339 date-time`},
		{action: "MeterValues", payload: `{"connectorId":1,"meterValue":[]}`, code: PropertyConstraintViolation,
			desc: "meterValue: 0 items, at least 1 required"},
		{action: "MeterValues", payload: `{"connectorId":1,"meterValue":[{"timestamp":"2024-05-06T07:08:09Z","sampledValue":[]}]}`,
			code: PropertyConstraintViolation, desc: "meterValue[0].sampledValue: 0 items, at least 1 required"},
		{action: "GetInstalledCertificateIds", response: true, payload: `{"status":"NotFound","certificateHashData":[]}`,
			code: PropertyConstraintViolation, desc: "certificateHashData: 0 items, at least 1 required"},
		{action: "GetCompositeSchedule", response: true, payload: strings.Replace(gcs, "%s", `16.15`, 1),
			code: PropertyConstraintViolation, desc: "chargingSchedule.chargingSchedulePeriod[0].limit: 16.15 is not a multiple of 0.1"},
		{action: "GetCompositeSchedule", response: true, payload: strings.Replace(gcs, "%s", `1e-999999999`, 1),
			code: PropertyConstraintViolation, desc: "chargingSchedule.chargingSchedulePeriod[0].limit: 1e-999999999 is not a multiple of 0.1"},
		{action: "GetCompositeSchedule", response: true, payload: strings.Replace(gcs, "%s", `1e999`, 1),
			code: PropertyConstraintViolation, desc: "chargingSchedule.chargingSchedulePeriod[0].limit: 1e999 is out of range"},
		{action: "GetDiagnostics", payload: `{"location":"diagnostics/upload"}`, code: PropertyConstraintViolation,
			desc: `location: "diagnostics/upload" is not an absolute URI`},
		{action: "StartTransaction", payload: `{"connectorId":99999999999999999999}`, code: PropertyConstraintViolation,
			desc: "connectorId: 99999999999999999999 is out of range"},
	}
	for _, tt := range tests {
		decode := DecodeRequest
		if tt.response {
			decode = DecodeResponse
		}
		v, _, err := decode(tt.action, []byte(tt.payload), Strict)
		var e *Error
		if !errors.As(err, &e) || e.Code != tt.code || !strings.HasPrefix(e.Description, tt.desc) {
			t.Errorf("%s %s: got %v, %v; want %s: %s…", tt.action, tt.payload, v, err, tt.code, tt.desc)
		}
		if v != nil {
			t.Errorf("%s %s: got a value with an error", tt.action, tt.payload)
		}
	}
}

func TestDecodeLenient(t *testing.T) {
	const mv = `{"connectorId":1,"meterValue":[{"timestamp":"2024-05-06T07:08:09Z","sampledValue":[%s]}]}`
	sv := func(s string) string { return strings.Replace(mv, "%s", s, 1) }
	long := strings.Repeat("x", 30)
	tests := []struct {
		action   string
		response bool
		payload  string
		warnings []string // the start of each warning
		check    func(v any) bool
	}{
		{action: "Heartbeat", payload: `{"vendorInfo":{"a":[1,{"b":null}]},"x":true}`,
			warnings: []string{"vendorInfo: unknown property, dropped", "x: unknown property, dropped"},
			check:    func(v any) bool { return *v.(*HeartbeatRequest) == HeartbeatRequest{} }},
		{action: "MeterValues", payload: sv(`{"value":"1","foo":"bar"}`),
			warnings: []string{"meterValue[0].sampledValue[0].foo: unknown property, dropped"}},
		{action: "Authorize", payload: `{"idTag":"` + long + `"}`,
			warnings: []string{"idTag: 30 characters, more than 20, kept whole"},
			check:    func(v any) bool { return v.(*AuthorizeRequest).IdTag == long }},
		{action: "MeterValues", payload: sv(`{"value":"1","unit":"kwh","measurand":"Energy.Active.Import.Register"}`),
			warnings: []string{`meterValue[0].sampledValue[0].unit: "kwh" is not one of Wh, kWh,`},
			check: func(v any) bool {
				return v.(*MeterValuesRequest).MeterValue[0].SampledValue[0].Unit == "kwh"
			}},
		{action: "StartTransaction", payload: `{"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"2024-05-06 07:08:09.1234567"}`,
			warnings: []string{`timestamp: "2024-05-06 07:08:09.1234567" is not RFC 3339, read as 2024-05-06T07:08:09.123Z`},
			check: func(v any) bool {
				return v.(*StartTransactionRequest).Timestamp.Equal(time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC))
			}},
		{action: "StatusNotification", payload: `{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":"2024-05-06T07:08:09+0200"}`,
			warnings: []string{`timestamp: "2024-05-06T07:08:09+0200" is not RFC 3339, read as 2024-05-06T05:08:09.000Z`}},
		{action: "StartTransaction", payload: `{"connectorId":1.0,"idTag":"A","meterStart":"1234","timestamp":"2024-05-06T07:08:09Z","reservationId":5e1}`,
			warnings: []string{"connectorId: number 1.0 for an integer, read as 1", `meterStart: string "1234" for an integer, read as 1234`,
				"reservationId: number 5e1 for an integer, read as 50"},
			check: func(v any) bool {
				r := v.(*StartTransactionRequest)
				return r.ConnectorID == 1 && r.MeterStart == 1234 && *r.ReservationID == 50
			}},
		{action: "StartTransaction", payload: `{"connectorId":1,"idTag":"A","meterStart":"-12.0","timestamp":"2024-05-06T07:08:09Z"}`,
			warnings: []string{`meterStart: string "-12.0" for an integer, read as -12`}},
		{action: "GetCompositeSchedule", response: true,
			payload:  `{"status":"Accepted","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":"16.5"},{"startPeriod":60,"limit":16.25}]}}`,
			warnings: []string{`chargingSchedule.chargingSchedulePeriod[0].limit: string "16.5" for a number, read as 16.5`, "chargingSchedule.chargingSchedulePeriod[1].limit: 16.25 is not a multiple of 0.1, kept as sent"},
			check: func(v any) bool {
				p := v.(*GetCompositeScheduleResponse).ChargingSchedule.ChargingSchedulePeriod
				return p[0].Limit == 16.5 && p[1].Limit == 16.25
			}},
		{action: "StartTransaction", payload: `{"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"2024-05-06T07:08:09Z","reservationId":null}`,
			warnings: []string{"reservationId: null for an optional property, read as absent"},
			check:    func(v any) bool { return v.(*StartTransactionRequest).ReservationID == nil }},
	}
	for _, tt := range tests {
		decode := DecodeRequest
		if tt.response {
			decode = DecodeResponse
		}
		v, warnings, err := decode(tt.action, []byte(tt.payload), Lenient)
		if err != nil {
			t.Errorf("%s %s: %v", tt.action, tt.payload, err)
			continue
		}
		if len(warnings) != len(tt.warnings) {
			t.Errorf("%s %s: warnings %q, want %q", tt.action, tt.payload, warnings, tt.warnings)
		} else {
			for i, w := range warnings {
				if !strings.HasPrefix(w, tt.warnings[i]) {
					t.Errorf("%s %s: warning %q, want %q…", tt.action, tt.payload, w, tt.warnings[i])
				}
			}
		}
		if tt.check != nil && !tt.check(v) {
			t.Errorf("%s %s: read as %+v", tt.action, tt.payload, v)
		}
		if _, _, err := decode(tt.action, []byte(tt.payload), Strict); err == nil {
			t.Errorf("%s %s: accepted in Strict mode", tt.action, tt.payload)
		}
	}
}

func TestDecodeLenientErrors(t *testing.T) {
	tests := []struct {
		action  string
		payload string
		code    ErrorCode
	}{
		{"Heartbeat", `{"x":1`, FormationViolation},
		{"Heartbeat", `{"x":[[[[`, FormationViolation},
		{"Heartbeat", `{"x":` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + `}`, FormationViolation},
		{"Authorize", `[]`, FormationViolation},
		{"Authorize", `{"idTag":"A","idTag":"B"}`, FormationViolation},
		{"Authorize", `{}`, OccurenceConstraintViolation},
		{"Authorize", `{"idTag":null}`, TypeConstraintViolation},
		{"Authorize", `{"idTag":12}`, TypeConstraintViolation},
		{"StartTransaction", `{"connectorId":"one"}`, TypeConstraintViolation},
		{"StartTransaction", `{"connectorId":" 1"}`, TypeConstraintViolation},
		{"StartTransaction", `{"connectorId":1.5}`, TypeConstraintViolation},
		{"StartTransaction", `{"connectorId":"1.5"}`, TypeConstraintViolation},
		{"StartTransaction", `{"connectorId":true}`, TypeConstraintViolation},
		{"StartTransaction", `{"connectorId":1e300}`, PropertyConstraintViolation},
		{"StartTransaction", `{"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"06.05.2024 07:08"}`, PropertyConstraintViolation},
		{"MeterValues", `{"connectorId":1,"meterValue":[]}`, PropertyConstraintViolation},
		{"MeterValues", `{"connectorId":1,"meterValue":[null]}`, TypeConstraintViolation},
		{"GetDiagnostics", `{"location":"relative/path"}`, PropertyConstraintViolation},
	}
	for _, tt := range tests {
		_, _, err := DecodeRequest(tt.action, []byte(tt.payload), Lenient)
		var e *Error
		if !errors.As(err, &e) || e.Code != tt.code {
			t.Errorf("%s %.60s: got %v, want %s", tt.action, tt.payload, err, tt.code)
		}
	}
}

func TestEncodePayload(t *testing.T) {
	at := DateTime{time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	valid := []struct {
		msg  any
		want string
	}{
		{HeartbeatRequest{}, `{}`},
		{&MeterValuesResponse{}, `{}`},
		{&HeartbeatResponse{CurrentTime: at}, `{"currentTime":"2024-05-06T07:08:09.000Z"}`},
		{BootNotificationResponse{Status: RegistrationStatusAccepted, CurrentTime: at, Interval: 300},
			`{"status":"Accepted","currentTime":"2024-05-06T07:08:09.000Z","interval":300}`},
		{&StartTransactionResponse{IdTagInfo: IdTagInfo{Status: AuthorizationStatusAccepted}, TransactionID: 0},
			`{"idTagInfo":{"status":"Accepted"},"transactionId":0}`},
		{&StopTransactionResponse{}, `{}`},
		{&ClearChargingProfileRequest{ConnectorID: new(int)}, `{"connectorId":0}`},
		{&GetConfigurationRequest{Key: []string{"HeartbeatInterval"}}, `{"key":["HeartbeatInterval"]}`},
		{&RemoteStartTransactionRequest{IdTag: "ABC", ChargingProfile: &ChargingProfile{
			ChargingProfileID: 1, ChargingProfilePurpose: ChargingProfilePurposeTypeTxProfile, ChargingProfileKind: ChargingProfileKindTypeRelative,
			ChargingSchedule: ChargingSchedule{ChargingRateUnit: ChargingRateUnitTypeA, ChargingSchedulePeriod: []ChargingSchedulePeriod{{Limit: 16.1}}},
		}}, `{"idTag":"ABC","chargingProfile":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile",` +
			`"chargingProfileKind":"Relative","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":16.1}]}}}`},
	}
	for _, tt := range valid {
		b, err := EncodePayload(tt.msg)
		if err != nil || string(b) != tt.want {
			t.Errorf("EncodePayload(%T) = %s, %v; want %s", tt.msg, b, err, tt.want)
		}
	}

	invalid := []struct {
		msg  any
		code ErrorCode
	}{
		{&BootNotificationResponse{CurrentTime: at, Interval: 300}, PropertyConstraintViolation},
		{&AuthorizeRequest{IdTag: strings.Repeat("x", 21)}, PropertyConstraintViolation},
		{&MeterValuesRequest{ConnectorID: 1}, TypeConstraintViolation},
		{&MeterValuesRequest{ConnectorID: 1, MeterValue: []MeterValue{}}, PropertyConstraintViolation},
		{&SetChargingProfileRequest{CsChargingProfiles: ChargingProfile{
			ChargingProfilePurpose: ChargingProfilePurposeTypeTxProfile, ChargingProfileKind: ChargingProfileKindTypeAbsolute,
			ChargingSchedule: ChargingSchedule{ChargingRateUnit: ChargingRateUnitTypeW, ChargingSchedulePeriod: []ChargingSchedulePeriod{{Limit: 11000.05}}},
		}}, PropertyConstraintViolation},
		{&GetDiagnosticsRequest{Location: "not a URI"}, PropertyConstraintViolation},
		{(*HeartbeatRequest)(nil), FormationViolation},
	}
	for _, tt := range invalid {
		b, err := EncodePayload(tt.msg)
		var e *Error
		if !errors.As(err, &e) || e.Code != tt.code {
			t.Errorf("EncodePayload(%+v) = %s, %v; want %s", tt.msg, b, err, tt.code)
		}
	}

	if _, err := EncodePayload(&HeartbeatResponse{CurrentTime: DateTime{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}); err == nil {
		t.Error("EncodePayload accepted a year before 0000")
	}
	for _, msg := range []any{nil, 42, &IdTagInfo{Status: AuthorizationStatusAccepted}, struct{}{}} {
		if _, err := EncodePayload(msg); err == nil {
			t.Errorf("EncodePayload(%T) accepted something that is no message", msg)
		}
	}
}

func TestActions(t *testing.T) {
	actions := Actions()
	if len(actions) != 39 {
		t.Errorf("%d actions, want the 28 of the core and the 11 of the security extension", len(actions))
	}
	if !slices.IsSortedFunc(actions, func(a, b Action) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Actions are not sorted by name")
	}
	actions[0].Name = "changed"
	if Actions()[0].Name == "changed" {
		t.Error("Actions returns the table itself")
	}

	for _, a := range Actions() {
		got, ok := LookupAction(a.Name)
		if !ok || got != a {
			t.Errorf("LookupAction(%q) = %v, %v", a.Name, got, ok)
		}
		req, resp := a.NewRequest(), a.NewResponse()
		if reflect.TypeOf(req).Kind() != reflect.Pointer || reflect.TypeOf(resp).Kind() != reflect.Pointer {
			t.Errorf("%s: NewRequest and NewResponse give %T and %T, want pointers", a.Name, req, resp)
		}
		if name := reflect.TypeOf(req).Elem().Name(); name != a.Name+"Request" {
			t.Errorf("%s: request type %s", a.Name, name)
		}
		if name := reflect.TypeOf(resp).Elem().Name(); name != a.Name+"Response" {
			t.Errorf("%s: response type %s", a.Name, name)
		}
		for _, msg := range []any{req, resp, reflect.ValueOf(req).Elem().Interface(), reflect.ValueOf(resp).Elem().Interface()} {
			if name, ok := ActionOf(msg); !ok || name != a.Name {
				t.Errorf("ActionOf(%T) = %q, %v; want %q", msg, name, ok, a.Name)
			}
		}
		if a.SentBy(ChargePoint) == a.SentBy(CentralSystem) && a.Name != "DataTransfer" {
			t.Errorf("%s is sent by %v", a.Name, a.Initiator)
		}
	}

	sides := []struct {
		action string
		want   Initiator
	}{
		{"BootNotification", ChargePoint},
		{"MeterValues", ChargePoint},
		{"SignCertificate", ChargePoint},
		{"RemoteStartTransaction", CentralSystem},
		{"CertificateSigned", CentralSystem},
		{"DataTransfer", ChargePoint | CentralSystem},
	}
	for _, tt := range sides {
		if a, _ := LookupAction(tt.action); a.Initiator != tt.want {
			t.Errorf("%s: initiator %v, want %v", tt.action, a.Initiator, tt.want)
		}
	}
	if s := (ChargePoint | CentralSystem).String(); s != "ChargePoint|CentralSystem" {
		t.Errorf("Initiator.String() = %q", s)
	}

	for _, name := range []string{"", "heartbeat", "HeartbeatRequest", "Foo"} {
		if _, ok := LookupAction(name); ok {
			t.Errorf("LookupAction(%q) found an action", name)
		}
	}
	for _, msg := range []any{nil, 1, "Heartbeat", IdTagInfo{}, &MeterValue{}, (*int)(nil)} {
		if name, ok := ActionOf(msg); ok {
			t.Errorf("ActionOf(%T) = %q", msg, name)
		}
	}
}

func TestTransactionDataMeterValue(t *testing.T) {
	at := DateTime{time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	d := TransactionData{Timestamp: at, SampledValue: []TransactionSampledValue{
		{Value: "12.5", Context: ReadingContextTransactionEnd, Measurand: MeasurandEnergyActiveImportRegister, Unit: UnitOfMeasureKWh},
	}}
	want := MeterValue{Timestamp: at, SampledValue: []SampledValue{
		{Value: "12.5", Context: ReadingContextTransactionEnd, Measurand: MeasurandEnergyActiveImportRegister, Unit: UnitOfMeasureKWh},
	}}
	if got := d.MeterValue(); !reflect.DeepEqual(got, want) {
		t.Errorf("MeterValue() = %+v, want %+v", got, want)
	}
}

func BenchmarkDecodeMeterValues(b *testing.B) {
	payload := []byte(meterValues)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, _, err := DecodeRequest("MeterValues", payload, Strict); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMeterValuesCall is the whole of what the server does with a MeterValues: read the
// frame, decode the payload, encode the response and frame it.
func BenchmarkMeterValuesCall(b *testing.B) {
	frame := AppendCall(nil, "c0a8f1e2-5b7d-4e3a-9f61-2d8c7b6a5e41", "MeterValues", []byte(meterValues))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	var out []byte
	for b.Loop() {
		f, ferr := ParseFrame(frame)
		if ferr != nil {
			b.Fatal(ferr)
		}
		if _, _, err := DecodeRequest(f.Action, f.Payload, Strict); err != nil {
			b.Fatal(err)
		}
		resp, err := EncodePayload(&MeterValuesResponse{})
		if err != nil {
			b.Fatal(err)
		}
		out = AppendCallResult(out[:0], f.ID, resp)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct{ action, payload string }{
		{"MeterValues", meterValues},
		{"Heartbeat", `{}`},
		{"Authorize", `{"idTag":"04A2B3C4D5E6F7"}`},
		{"BootNotification", `{"chargePointVendor":"VendorX","chargePointModel":"M1","firmwareVersion":"1.2.3","iccid":"","imsi":"x"}`},
		{"StartTransaction", `{"connectorId":1,"idTag":"A","meterStart":1234,"reservationId":7,"timestamp":"2024-05-06T07:08:09+02:00"}`},
		{"StopTransaction", `{"transactionId":42,"meterStop":2345,"timestamp":"2024-05-06T08:08:09Z","reason":"EVDisconnected",` +
			`"transactionData":[{"timestamp":"2024-05-06T08:08:09Z","sampledValue":[{"value":"2.345","unit":"kWh","context":"Transaction.End"}]}]}`},
		{"StatusNotification", `{"connectorId":0,"errorCode":"NoError","status":"Available","timestamp":"2024-05-06T07:08:09.5Z","info":"\u00e9t\u00e9"}`},
		{"DataTransfer", `{"vendorId":"com.example","messageId":"m","data":"{\"a\":1}"}`},
		{"SetChargingProfile", `{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",` +
			`"chargingProfileKind":"Recurring","recurrencyKind":"Daily","chargingSchedule":{"chargingRateUnit":"W","minChargingRate":1.5,` +
			`"chargingSchedulePeriod":[{"startPeriod":0,"limit":11000.0,"numberPhases":3}]}}}`},
		{"SendLocalList", `{"listVersion":2,"updateType":"Full","localAuthorizationList":[{"idTag":"A","idTagInfo":{"status":"Accepted","expiryDate":"2030-01-01T00:00:00Z"}}]}`},
		{"GetConfiguration", `{"key":["HeartbeatInterval","MeterValueSampleInterval"]}`},
		{"SignedUpdateFirmware", `{"requestId":1,"firmware":{"location":"https://example.com/fw","retrieveDateTime":"2024-05-06T07:08:09Z","signingCertificate":"c","signature":"s"}}`},
		{"MeterValues", `{"connectorId":"1","meterValue":[{"timestamp":"2024-05-06 07:08:09","sampledValue":[{"value":"1","unit":"kwh","x":null}]}]}`},
	}
	for _, s := range seeds {
		f.Add(s.action, []byte(s.payload))
	}
	f.Fuzz(func(t *testing.T, action string, payload []byte) {
		strict, _, serr := DecodeRequest(action, payload, Strict)
		lenient, warnings, lerr := DecodeRequest(action, payload, Lenient)
		for _, err := range []error{serr, lerr} {
			var e *Error
			if err != nil && (!errors.As(err, &e) || !e.Code.Valid() || e.Code == GenericError) {
				t.Fatalf("error %v is not an *Error with a fitting code", err)
			}
		}
		if !json.Valid(payload) && (serr == nil || lerr == nil || serr.(*Error).Code != FormationViolation && serr.(*Error).Code != NotImplemented) {
			t.Fatalf("invalid JSON: strict %v, lenient %v", serr, lerr)
		}
		// Lenient mode accepts a superset, and says so exactly when it tolerated something.
		if (serr == nil) != (lerr == nil && len(warnings) == 0) {
			t.Fatalf("strict error %v; lenient error %v, warnings %q", serr, lerr, warnings)
		}
		if lerr == nil {
			if _, err := json.Marshal(lenient); err != nil {
				t.Fatalf("lenient value does not marshal: %v", err)
			}
		}
		if serr != nil {
			return
		}
		if !reflect.DeepEqual(strict, lenient) {
			t.Fatalf("strict %+v, lenient %+v", strict, lenient)
		}
		// encoding/json must read an accepted payload the same way.
		a, _ := LookupAction(action)
		std := a.NewRequest()
		if err := json.Unmarshal(payload, std); err != nil || !reflect.DeepEqual(std, strict) {
			t.Fatalf("encoding/json reads %+v, %v; we read %+v", std, err, strict)
		}
		enc, err := EncodePayload(strict)
		if err != nil {
			t.Fatalf("accepted payload does not re-encode: %v", err)
		}
		again, _, err := DecodeRequest(action, enc, Strict)
		if err != nil {
			t.Fatalf("re-encoded payload %s: %v", enc, err)
		}
		if enc2, err := EncodePayload(again); err != nil || string(enc2) != string(enc) {
			t.Fatalf("encoding is not stable: %s, then %s, %v", enc, enc2, err)
		}
	})
}
