package metering

import (
	"slices"
	"strconv"
	"strings"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// The OCPP 1.6 configuration keys billing-grade metering sets (OCPP 1.6 §9.1; docs
// "billing-and-metering" §4.3, §4.5).
const (
	KeyMeterValueSampleInterval = "MeterValueSampleInterval"
	KeyMeterValuesSampledData   = "MeterValuesSampledData"
	KeyClockAlignedDataInterval = "ClockAlignedDataInterval"
	KeyMeterValuesAlignedData   = "MeterValuesAlignedData"
	KeyStopTxnAlignedData       = "StopTxnAlignedData"
	// MaxLengthSuffix names the key that bounds a list key's items: MeterValuesSampledData
	// has MeterValuesSampledDataMaxLength.
	MaxLengthSuffix = "MaxLength"
)

// MeasurandRegister is the energy register measurand.
const MeasurandRegister = "Energy.Active.Import.Register"

// BillingKeys are the keys PlanBillingMetering plans, in the order it plans them.
var BillingKeys = []string{
	KeyMeterValueSampleInterval, KeyMeterValuesSampledData, KeyClockAlignedDataInterval,
	KeyMeterValuesAlignedData, KeyStopTxnAlignedData,
}

// listKeys are the BillingKeys whose value is a list of measurands, with a MaxLength key.
var listKeys = []string{KeyMeterValuesSampledData, KeyMeterValuesAlignedData, KeyStopTxnAlignedData}

// ConfigurationKeys are the keys to ask a station for before planning: BillingKeys and the
// MaxLength keys of their lists.
func ConfigurationKeys() []string {
	keys := append([]string(nil), BillingKeys...)
	for _, k := range listKeys {
		keys = append(keys, k+MaxLengthSuffix)
	}
	return keys
}

// KeyValue is a configuration key as GetConfiguration answers it.
type KeyValue = ocpp.KeyValue

// The sample interval billing-grade metering keeps, in seconds: often enough for live power
// to go stale after StaleAfter, seldom enough for a charger's queue while offline.
const (
	minSampleInterval  = 30
	maxSampleInterval  = 60
	clockAlignedPeriod = 900 // quarter hours
)

// Change is what PlanBillingMetering wants of one key.
type Change struct {
	Key    string
	Before string // the station's value; empty when it has none or did not say
	// Known: the station reported the key. An unknown key is set all the same: some stations
	// answer GetConfiguration with fewer keys than they take.
	Known bool
	// ReadOnly: the station reports the key read-only; it is not set, only reported.
	ReadOnly bool
	Want     string
	// Fallback is what to set instead when the station rejects Want (it does not support
	// one of the measurands, or the list is too long for it and it does not say its
	// MaxLength): the list with only the register added. Empty for none.
	Fallback string
}

// Needed reports whether the key must be set: its value is not what is wanted, and the
// station does not report it read-only.
func (c Change) Needed() bool {
	return !c.ReadOnly && (!c.Known || !sameValue(c.Key, c.Before, c.Want))
}

// PlanBillingMetering returns, for each of BillingKeys in order, what billing-grade metering
// wants of it given the station's configuration (docs "billing-and-metering" §4.5):
//
//   - MeterValueSampleInterval kept if within 30..60 s, else 30;
//   - MeterValuesSampledData with Energy.Active.Import.Register and Power.Active.Import,
//     keeping the measurands it has; where MeterValuesSampledDataMaxLength leaves no room
//     for all, the register comes first, then the power, then the others in their order;
//   - ClockAlignedDataInterval 900: a register reading on every quarter hour;
//   - MeterValuesAlignedData and StopTxnAlignedData with the register, within their
//     MaxLength likewise.
//
// A list key whose MaxLength the station does not report is not bounded here (OCPP's
// assumption of 1 item would drop every other measurand); Change.Fallback covers a station
// that then rejects it.
func PlanBillingMetering(current []KeyValue) []Change {
	byKey := make(map[string]KeyValue, len(current))
	for _, kv := range current {
		byKey[kv.Key] = kv
	}
	changes := make([]Change, 0, len(BillingKeys))
	for _, key := range BillingKeys {
		kv, known := byKey[key]
		c := Change{Key: key, Known: known, ReadOnly: kv.Readonly, Before: kv.Value}
		switch key {
		case KeyMeterValueSampleInterval:
			c.Want = strconv.Itoa(minSampleInterval)
			if n, err := strconv.Atoi(strings.TrimSpace(kv.Value)); err == nil && n >= minSampleInterval && n <= maxSampleInterval {
				c.Want = strconv.Itoa(n)
			}
		case KeyClockAlignedDataInterval:
			c.Want = strconv.Itoa(clockAlignedPeriod)
		case KeyMeterValuesSampledData:
			c.Want, c.Fallback = planList(kv.Value, maxLength(byKey, key), MeasurandRegister, MeasurandPower)
		default:
			c.Want, c.Fallback = planList(kv.Value, maxLength(byKey, key), MeasurandRegister)
		}
		if !c.Needed() || c.Fallback == c.Want || sameValue(key, c.Before, c.Fallback) {
			c.Fallback = ""
		}
		changes = append(changes, c)
	}
	return changes
}

// maxLength is the station's bound on the items of a list key; 0 when it says none.
func maxLength(byKey map[string]KeyValue, key string) int {
	n, err := strconv.Atoi(strings.TrimSpace(byKey[key+MaxLengthSuffix].Value))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// planList returns the list value with the required measurands, first in that order when
// there is no room for all, and the fallback value with only the first of them added.
func planList(value string, maxLen int, required ...string) (want, fallback string) {
	have := splitList(value)
	others := make([]string, 0, len(have))
	for _, m := range have {
		if !slices.Contains(required, m) {
			others = append(others, m)
		}
	}
	// Keep the station's order when everything fits; add what is missing at the end.
	all := append([]string(nil), have...)
	for _, m := range required {
		if !slices.Contains(all, m) {
			all = append(all, m)
		}
	}
	if maxLen == 0 || len(all) <= maxLen {
		want = strings.Join(all, ",")
	} else {
		kept := append(append([]string(nil), required...), others...)
		want = strings.Join(kept[:min(maxLen, len(kept))], ",")
	}
	fb := append([]string(nil), have...)
	if !slices.Contains(fb, required[0]) {
		fb = append(fb, required[0])
	}
	if maxLen > 0 && len(fb) > maxLen {
		fb = append([]string{required[0]}, others...)[:maxLen]
	}
	return want, strings.Join(fb, ",")
}

// splitList reads a comma-separated list key, without empty items or duplicates.
func splitList(value string) []string {
	var out []string
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item != "" && !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}

// sameValue compares values of key: lists as sets, numbers as numbers.
func sameValue(key, a, b string) bool {
	if slices.Contains(listKeys, key) {
		as, bs := splitList(a), splitList(b)
		if len(as) != len(bs) {
			return false
		}
		for _, x := range as {
			if !slices.Contains(bs, x) {
				return false
			}
		}
		return true
	}
	x, errA := strconv.Atoi(strings.TrimSpace(a))
	y, errB := strconv.Atoi(strings.TrimSpace(b))
	if errA == nil && errB == nil {
		return x == y
	}
	return a == b
}
