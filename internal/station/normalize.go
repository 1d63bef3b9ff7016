package station

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Sample is a sampled value as it came in a message, before the defaults of the
// specification are applied.
type Sample struct {
	Timestamp                                          time.Time
	Value, Context, Format, Measurand, Phase, Location string
	Unit                                               string
}

// The defaults OCPP 1.6 gives an absent field of a sampled value: "a value without any
// additional fields will be interpreted as a register reading of active import energy in Wh".
const (
	DefaultMeasurand = "Energy.Active.Import.Register"
	DefaultContext   = "Sample.Periodic"
	DefaultLocation  = "Outlet"
	DefaultFormat    = "Raw"
)

// kiloUnits are the units normalised to their base unit by a factor of 1000.
var kiloUnits = map[string]string{
	"kWh":   "Wh",
	"kvarh": "varh",
	"kW":    "W",
	"kvar":  "var",
	"kVA":   "VA",
}

// NormalizeSample fills in the defaults and brings the value to its base unit (kWh to Wh,
// kW to W, ...), keeping what was sent as RawValue and RawUnit. A signed or non-numeric
// value keeps a nil Milli: it is stored for audit, not computed with.
func NormalizeSample(s Sample) MeterValue {
	m := MeterValue{
		Timestamp: s.Timestamp.UTC(),
		Measurand: orDefault(s.Measurand, DefaultMeasurand),
		Phase:     s.Phase,
		Context:   orDefault(s.Context, DefaultContext),
		Location:  orDefault(s.Location, DefaultLocation),
		Format:    orDefault(s.Format, DefaultFormat),
		RawValue:  s.Value,
		RawUnit:   s.Unit,
	}
	unit := s.Unit
	if unit == "" {
		unit = defaultUnit(m.Measurand)
	}
	factor := 1.0
	if base, ok := kiloUnits[unit]; ok {
		unit, factor = base, 1000
	}
	m.Unit = unit
	if m.Format != DefaultFormat {
		return m
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s.Value), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return m
	}
	milli := v * factor * 1000
	if math.Abs(milli) >= 1<<62 {
		return m
	}
	r := int64(math.Round(milli))
	m.Milli = &r
	return m
}

// defaultUnit is the unit a measurand is read in when the station names none. The
// specification's default is Wh, which only makes sense for energy; chargers that leave the
// unit out of power or current readings mean W and A.
func defaultUnit(measurand string) string {
	switch {
	case strings.HasPrefix(measurand, "Energy.Reactive"):
		return "varh"
	case strings.HasPrefix(measurand, "Energy"):
		return "Wh"
	case strings.HasPrefix(measurand, "Power.Reactive"):
		return "var"
	case measurand == "Power.Factor":
		return ""
	case strings.HasPrefix(measurand, "Power"):
		return "W"
	case strings.HasPrefix(measurand, "Current"):
		return "A"
	case measurand == "Voltage":
		return "V"
	case measurand == "SoC":
		return "Percent"
	case measurand == "Temperature":
		return "Celsius"
	case measurand == "Frequency":
		return "Hz"
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// IsEnergyRegister reports whether m is a total active import energy register reading,
// the value transactions are settled on.
func (m MeterValue) IsEnergyRegister() bool {
	return m.Measurand == DefaultMeasurand && m.Phase == "" && m.Unit == "Wh" && m.Milli != nil
}
