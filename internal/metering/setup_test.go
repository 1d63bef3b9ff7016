package metering

import (
	"testing"
)

func kv(key, value string) KeyValue { return KeyValue{Key: key, Value: value} }

func TestPlanBillingMetering(t *testing.T) {
	const (
		R  = MeasurandRegister
		P  = MeasurandPower
		SI = KeyMeterValueSampleInterval
		SD = KeyMeterValuesSampledData
		CI = KeyClockAlignedDataInterval
		AD = KeyMeterValuesAlignedData
		ST = KeyStopTxnAlignedData
	)
	good := []KeyValue{kv(SI, "60"), kv(SD, R+","+P+",SoC"), kv(CI, "900"), kv(AD, R), kv(ST, R)}
	tests := []struct {
		name    string
		current []KeyValue
		// want per key: "=" unchanged (not needed), else the value to set.
		want     map[string]string
		fallback map[string]string
		readOnly []string
	}{
		{
			name:    "already billing-grade: nothing to set",
			current: good,
			want:    map[string]string{SI: "=", SD: "=", CI: "=", AD: "=", ST: "="},
		},
		{
			name:     "nothing reported: every key set, lists unbounded",
			current:  nil,
			want:     map[string]string{SI: "30", SD: R + "," + P, CI: "900", AD: R, ST: R},
			fallback: map[string]string{SD: R, AD: ""},
		},
		{
			name: "Zaptec-like: 2-minute samples, power and current, no clock-aligned data",
			current: []KeyValue{kv(SI, "120"), kv(SD, P+", Current.Import , "+R), kv(CI, "0"), kv(AD, ""), kv(ST, ""),
				kv(SD+MaxLengthSuffix, "5")},
			want:     map[string]string{SI: "30", SD: "=", CI: "900", AD: R, ST: R},
			fallback: map[string]string{SD: "", AD: ""},
		},
		{
			name:    "interval within 30..60 kept; 29 and garbage are not",
			current: []KeyValue{kv(SI, "45"), kv(SD, R+","+P), kv(CI, "900"), kv(AD, R), kv(ST, R)},
			want:    map[string]string{SI: "=", SD: "=", CI: "=", AD: "=", ST: "="},
		},
		{
			name:     "interval 29",
			current:  []KeyValue{kv(SI, "29")},
			want:     map[string]string{SI: "30", SD: R + "," + P, CI: "900", AD: R, ST: R},
			fallback: map[string]string{SD: R, AD: ""},
		},
		{
			name:    "existing measurands kept, the required ones added",
			current: []KeyValue{kv(SD, "Current.Import,SoC"), kv(SD+MaxLengthSuffix, "4"), kv(AD, "Voltage")},
			want:    map[string]string{SI: "30", SD: "Current.Import,SoC," + R + "," + P, CI: "900", AD: "Voltage," + R, ST: R},
			// Without a MaxLength the aligned list is sent whole; its fallback is the same.
			fallback: map[string]string{SD: "Current.Import,SoC," + R},
		},
		{
			name:     "no room: the register first, then the power, then the others",
			current:  []KeyValue{kv(SD, "Current.Import,SoC,Voltage"), kv(SD+MaxLengthSuffix, "3"), kv(AD, "Voltage"), kv(AD+MaxLengthSuffix, "1")},
			want:     map[string]string{SI: "30", SD: R + "," + P + ",Current.Import", CI: "900", AD: R, ST: R},
			fallback: map[string]string{SD: R + ",Current.Import,SoC"},
		},
		{
			name:     "room for one: the register wins",
			current:  []KeyValue{kv(SD, P), kv(SD+MaxLengthSuffix, "1")},
			want:     map[string]string{SI: "30", SD: R, CI: "900", AD: R, ST: R},
			fallback: map[string]string{SD: ""},
		},
		{
			name: "read-only keys are reported, not set",
			current: []KeyValue{{Key: SI, Value: "300", Readonly: true}, {Key: CI, Value: "900", Readonly: true},
				{Key: SD, Value: R + "," + P}, {Key: AD, Value: R}, {Key: ST, Value: R}},
			want:     map[string]string{SI: "30", SD: "=", CI: "=", AD: "=", ST: "="},
			readOnly: []string{SI},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes := PlanBillingMetering(tt.current)
			if len(changes) != len(BillingKeys) {
				t.Fatalf("%d changes, want %d", len(changes), len(BillingKeys))
			}
			for i, c := range changes {
				if c.Key != BillingKeys[i] {
					t.Fatalf("change %d is %s, want %s", i, c.Key, BillingKeys[i])
				}
				want := tt.want[c.Key]
				isRO := false
				for _, k := range tt.readOnly {
					isRO = isRO || k == c.Key
				}
				switch {
				case isRO:
					if c.Needed() || !c.ReadOnly || c.Want != want {
						t.Errorf("%s: %+v, want read-only and not needed, wanting %q", c.Key, c, want)
					}
				case want == "=":
					if c.Needed() {
						t.Errorf("%s: %+v needed, want unchanged", c.Key, c)
					}
				default:
					if !c.Needed() || c.Want != want {
						t.Errorf("%s: needed %v want %q, expected %q", c.Key, c.Needed(), c.Want, want)
					}
				}
				if fb, ok := tt.fallback[c.Key]; ok && c.Fallback != fb {
					t.Errorf("%s: fallback %q, want %q", c.Key, c.Fallback, fb)
				}
			}
		})
	}
}

func TestConfigurationKeys(t *testing.T) {
	keys := ConfigurationKeys()
	if len(keys) != 8 || keys[5] != "MeterValuesSampledDataMaxLength" || keys[7] != "StopTxnAlignedDataMaxLength" {
		t.Errorf("ConfigurationKeys() = %v", keys)
	}
}
