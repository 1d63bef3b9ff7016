package e2e

import (
	"net/http"
	"slices"
	"testing"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// The configuration cases: GetConfiguration and ChangeConfiguration, and the station's last
// known configuration they keep.

// fullConfiguration is what the scripted charger reports for all keys.
func fullConfiguration() *ocpp.GetConfigurationResponse {
	return &ocpp.GetConfigurationResponse{ConfigurationKey: []ocpp.KeyValue{
		{Key: "HeartbeatInterval", Value: "300"},
		{Key: "MeterValueSampleInterval", Value: "60"},
		{Key: "MeterValuesSampledData", Value: "Energy.Active.Import.Register"},
		{Key: "NumberOfConnectors", Readonly: true, Value: "2"},
		{Key: "AuthorizationKey", Readonly: false}, // write-only: no value revealed
	}}
}

// configurationScript answers GetConfiguration from keys as a charger does: all of them for
// no key, the keys asked for otherwise, and those it does not have as unknownKey. A test that
// changes the keys scripts them again.
func configurationScript(cp *chargePoint, keys []ocpp.KeyValue) {
	all := slices.Clone(keys)
	cp.onCall("GetConfiguration", func(call rpc.Call) answer {
		req := decodeCall[ocpp.GetConfigurationRequest](cp, call)
		if len(req.Key) == 0 {
			return reply(&ocpp.GetConfigurationResponse{ConfigurationKey: all})
		}
		resp := &ocpp.GetConfigurationResponse{}
		for _, k := range req.Key {
			i := slices.IndexFunc(all, func(kv ocpp.KeyValue) bool { return kv.Key == k })
			if i < 0 {
				resp.UnknownKey = append(resp.UnknownKey, k)
				continue
			}
			resp.ConfigurationKey = append(resp.ConfigurationKey, all[i])
		}
		return reply(resp)
	})
}

// wantKey checks one key of a configuration.
func wantKey(t *testing.T, config map[string]apiConfigKey, key string, value *string, readonly, unknown bool) {
	t.Helper()
	k, ok := config[key]
	if !ok {
		t.Errorf("configuration has no %s", key)
		return
	}
	if (k.Value == nil) != (value == nil) || (value != nil && *k.Value != *value) || k.Readonly != readonly || k.Unknown != unknown {
		t.Errorf("%s stored as %+v (value %v), want value %v readonly %v unknown %v", key, k, val(k.Value), val(value), readonly, unknown)
	}
}

func TestTC_019_1_GetAllConfigurationKeys(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-019-1")
	cp.bootAvailable(1)
	keys := fullConfiguration().ConfigurationKey
	configurationScript(cp, keys)

	m := cp.mark()
	var refreshed struct{ Configuration []apiConfigKey }
	sys.call("POST", "/api/v1/stations/CP-019-1/configuration/refresh", "", http.StatusOK, &refreshed)
	cp.wantFlow(m, "CS>CP GetConfiguration.req", "CP>CS GetConfiguration.conf")
	wantJSON(t, "GetConfiguration on the wire", cp.received(m, "GetConfiguration")[0].Payload, `{}`)
	if len(refreshed.Configuration) != len(keys) {
		t.Errorf("refresh answered %d keys, want %d", len(refreshed.Configuration), len(keys))
	}

	config := sys.configuration("CP-019-1")
	if len(config) != len(keys) {
		t.Errorf("configuration %+v, want the %d keys reported", config, len(keys))
	}
	wantKey(t, config, "HeartbeatInterval", ptr("300"), false, false)
	wantKey(t, config, "MeterValueSampleInterval", ptr("60"), false, false)
	wantKey(t, config, "NumberOfConnectors", ptr("2"), true, false)
	wantKey(t, config, "AuthorizationKey", nil, false, false)
	wantOperation(t, sys.lastOperation("CP-019-1", "GetConfiguration"), "GetConfiguration", `{}`,
		mustJSON(t, fullConfiguration()))

	// A full report replaces the configuration: a key the charger no longer reports goes.
	keys = slices.DeleteFunc(slices.Clone(keys), func(kv ocpp.KeyValue) bool { return kv.Key == "MeterValuesSampledData" })
	configurationScript(cp, keys)
	sys.call("POST", "/api/v1/stations/CP-019-1/configuration/refresh", "{}", http.StatusOK, nil)
	if config := sys.configuration("CP-019-1"); len(config) != len(keys) {
		t.Errorf("after a second full report the configuration is %+v, want %d keys", config, len(keys))
	} else if _, ok := config["MeterValuesSampledData"]; ok {
		t.Errorf("MeterValuesSampledData kept after a full report without it")
	}
}

func TestTC_019_2_GetSpecificConfigurationKey(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-019-2")
	cp.bootAvailable(1)
	keys := fullConfiguration().ConfigurationKey
	configurationScript(cp, keys)
	sys.call("POST", "/api/v1/stations/CP-019-2/configuration/refresh", "", http.StatusOK, nil)

	keys[1].Value = "15" // MeterValueSampleInterval changed at the charger
	configurationScript(cp, keys)
	m := cp.mark()
	got := sys.operate("CP-019-2", "GetConfiguration", `{"key":["MeterValueSampleInterval","NoSuchKey"]}`)
	wantJSON(t, "GetConfiguration answer", got,
		`{"configurationKey":[{"key":"MeterValueSampleInterval","readonly":false,"value":"15"}],"unknownKey":["NoSuchKey"]}`)
	cp.wantFlow(m, "CS>CP GetConfiguration.req", "CP>CS GetConfiguration.conf")
	if req := request[ocpp.GetConfigurationRequest](cp, m); !slices.Equal(req.Key, []string{"MeterValueSampleInterval", "NoSuchKey"}) {
		t.Errorf("GetConfiguration for %v", req.Key)
	}

	// A partial report updates the keys it names and keeps the others.
	config := sys.configuration("CP-019-2")
	wantKey(t, config, "MeterValueSampleInterval", ptr("15"), false, false)
	wantKey(t, config, "HeartbeatInterval", ptr("300"), false, false)
	wantKey(t, config, "NumberOfConnectors", ptr("2"), true, false)
	wantKey(t, config, "NoSuchKey", nil, false, true)
	if len(config) != len(keys)+1 {
		t.Errorf("configuration has %d keys, want %d", len(config), len(keys)+1)
	}
}

func TestTC_021_ChangeConfiguration(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-021")
	cp.bootAvailable(1)
	configurationScript(cp, fullConfiguration().ConfigurationKey)
	sys.call("POST", "/api/v1/stations/CP-021/configuration/refresh", "", http.StatusOK, nil)
	cp.on("ChangeConfiguration", reply(&ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusAccepted}))

	m := cp.mark()
	r := sys.call("PUT", "/api/v1/stations/CP-021/configuration/keys/MeterValueSampleInterval", `{"value":"30"}`, http.StatusOK, nil)
	wantJSON(t, "ChangeConfiguration answer", r.body, `{"status":"Accepted"}`)
	cp.wantFlow(m, "CS>CP ChangeConfiguration.req", "CP>CS ChangeConfiguration.conf")
	if req := request[ocpp.ChangeConfigurationRequest](cp, m); req.Key != "MeterValueSampleInterval" || req.Value != "30" {
		t.Errorf("ChangeConfiguration on the wire: %+v", req)
	}
	config := sys.configuration("CP-021")
	wantKey(t, config, "MeterValueSampleInterval", ptr("30"), false, false)
	if config["MeterValueSampleInterval"].RebootRequired {
		t.Errorf("MeterValueSampleInterval marked reboot required after Accepted")
	}
	wantOperation(t, sys.lastOperation("CP-021", "ChangeConfiguration"), "ChangeConfiguration",
		`{"key":"MeterValueSampleInterval","value":"30"}`, `{"status":"Accepted"}`)

	// RebootRequired: the value is kept, and marked as waiting for a reboot.
	cp.on("ChangeConfiguration", reply(&ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusRebootRequired}))
	sys.call("PUT", "/api/v1/stations/CP-021/configuration/keys/HeartbeatInterval", `{"value":"120"}`, http.StatusOK, nil)
	config = sys.configuration("CP-021")
	wantKey(t, config, "HeartbeatInterval", ptr("120"), false, false)
	if !config["HeartbeatInterval"].RebootRequired {
		t.Errorf("HeartbeatInterval not marked reboot required: %+v", config["HeartbeatInterval"])
	}
}

func TestTC_040_1_ChangeConfigurationNotSupported(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-040-1")
	cp.bootAvailable(1)
	configurationScript(cp, fullConfiguration().ConfigurationKey)
	sys.call("POST", "/api/v1/stations/CP-040-1/configuration/refresh", "", http.StatusOK, nil)
	before := sys.configuration("CP-040-1")
	cp.on("ChangeConfiguration", reply(&ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusNotSupported}))

	m := cp.mark()
	r := sys.call("PUT", "/api/v1/stations/CP-040-1/configuration/keys/VendorMagicKey", `{"value":"on"}`, http.StatusOK, nil)
	wantJSON(t, "ChangeConfiguration answer", r.body, `{"status":"NotSupported"}`)
	cp.wantFlow(m, "CS>CP ChangeConfiguration.req", "CP>CS ChangeConfiguration.conf")
	wantOperation(t, sys.lastOperation("CP-040-1", "ChangeConfiguration"), "ChangeConfiguration",
		`{"key":"VendorMagicKey","value":"on"}`, `{"status":"NotSupported"}`)
	after := sys.configuration("CP-040-1")
	if _, ok := after["VendorMagicKey"]; ok || len(after) != len(before) {
		t.Errorf("configuration after NotSupported: %+v, want it unchanged", after)
	}
}

func TestTC_040_2_ChangeConfigurationInvalidValue(t *testing.T) {
	t.Parallel()
	sys := newSystem(t)
	cp := sys.connect("CP-040-2")
	cp.bootAvailable(1)
	configurationScript(cp, fullConfiguration().ConfigurationKey)
	sys.call("POST", "/api/v1/stations/CP-040-2/configuration/refresh", "", http.StatusOK, nil)
	cp.on("ChangeConfiguration", reply(&ocpp.ChangeConfigurationResponse{Status: ocpp.ConfigurationStatusRejected}))

	m := cp.mark()
	r := sys.call("PUT", "/api/v1/stations/CP-040-2/configuration/keys/MeterValuesSampledData", `{"value":"No.Such.Measurand"}`, http.StatusOK, nil)
	wantJSON(t, "ChangeConfiguration answer", r.body, `{"status":"Rejected"}`)
	cp.wantFlow(m, "CS>CP ChangeConfiguration.req", "CP>CS ChangeConfiguration.conf")
	wantOperation(t, sys.lastOperation("CP-040-2", "ChangeConfiguration"), "ChangeConfiguration",
		`{"key":"MeterValuesSampledData","value":"No.Such.Measurand"}`, `{"status":"Rejected"}`)
	wantKey(t, sys.configuration("CP-040-2"), "MeterValuesSampledData", ptr("Energy.Active.Import.Register"), false, false)

	// A value chargebook knows to be invalid for a key of OCPP 1.6 is refused before it
	// reaches the charger.
	m = cp.mark()
	bad := sys.do("PUT", "/api/v1/stations/CP-040-2/configuration/keys/MeterValueSampleInterval", `{"value":"thirty"}`)
	if bad.status != http.StatusBadRequest {
		t.Errorf("MeterValueSampleInterval=thirty: %d %s, want 400", bad.status, bad.body)
	}
	cp.wantFlow(m)
	wantKey(t, sys.configuration("CP-040-2"), "MeterValueSampleInterval", ptr("60"), false, false)
}
