package simulator

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// batteryWh is the size of the simulated car's battery, which turns energy into SoC.
const batteryWh = 60_000

// meter is a connector's energy meter and the car plugged into it.
type meter struct {
	// registerMWh is the lifetime import register in mWh. It only grows: chargers whose
	// register goes backwards are a problem the central system must flag, not simulate.
	registerMWh int64
	at          time.Time // when the register was last advanced
	charging    bool
	nominalW    float64
	variation   float64 // relative spread of the power around nominalW
	powerW      float64 // the power over the period that ends at `at`
	nextW       float64 // the power over the period that starts at `at`
	soc         float64
}

// advance moves the register to now at the power of the running period, and draws the
// power of the next one. The power reported for a sample is the one the energy grew with,
// so that energy and power agree as they do on a real meter.
func (m *meter) advance(now time.Time, rng *rand.Rand) {
	if !now.After(m.at) {
		return
	}
	if m.charging {
		mwh := int64(math.Round(m.nextW * float64(now.Sub(m.at)) / float64(time.Hour) * 1000))
		m.registerMWh += mwh
		m.soc = min(100, m.soc+float64(mwh)/1000/batteryWh*100)
		m.powerW = m.nextW
		m.nextW = m.draw(rng)
	} else {
		m.powerW = 0
	}
	m.at = now
}

func (m *meter) draw(rng *rand.Rand) float64 {
	if m.variation <= 0 {
		return m.nominalW
	}
	return m.nominalW * (1 + m.variation*(2*rng.Float64()-1))
}

// start begins charging a car that arrives with a random state of charge.
func (m *meter) start(now time.Time, rng *rand.Rand) {
	m.advance(now, rng)
	m.charging = true
	m.nextW = m.draw(rng)
	m.soc = 15 + 50*rng.Float64()
}

func (m *meter) stop(now time.Time, rng *rand.Rand) {
	m.advance(now, rng)
	m.charging = false
	m.nextW = 0
}

// registerWh is the register as the station reports it: whole Wh, rounded down, so that it
// never runs ahead of the energy actually delivered.
func (m *meter) registerWh() int64 { return m.registerMWh / 1000 }

// supportedMeasurands are what a simulated meter can sample.
var supportedMeasurands = map[ocpp.Measurand]bool{
	ocpp.MeasurandEnergyActiveImportRegister: true,
	ocpp.MeasurandPowerActiveImport:          true,
	ocpp.MeasurandCurrentImport:              true,
	ocpp.MeasurandVoltage:                    true,
	ocpp.MeasurandSoC:                        true,
}

// sampledValues reads the measurands off the meter. SoC comes from the car, so there is none
// without a transaction.
func (m *meter) sampledValues(measurands []ocpp.Measurand, rc ocpp.ReadingContext, inTx bool, rng *rand.Rand) []ocpp.SampledValue {
	out := make([]ocpp.SampledValue, 0, len(measurands))
	for _, ms := range measurands {
		sv := ocpp.SampledValue{Context: rc, Measurand: ms, Location: ocpp.LocationOutlet}
		switch ms {
		case ocpp.MeasurandEnergyActiveImportRegister:
			sv.Value, sv.Unit = strconv.FormatInt(m.registerWh(), 10), ocpp.UnitOfMeasureWh
		case ocpp.MeasurandPowerActiveImport:
			sv.Value, sv.Unit = strconv.FormatInt(int64(math.Round(m.powerW)), 10), ocpp.UnitOfMeasureW
		case ocpp.MeasurandCurrentImport:
			// Three phases at 230 V.
			sv.Value, sv.Unit = strconv.FormatFloat(m.powerW/(3*230), 'f', 1, 64), ocpp.UnitOfMeasureA
		case ocpp.MeasurandVoltage:
			sv.Value, sv.Unit = strconv.FormatFloat(230+4*(rng.Float64()-0.5), 'f', 1, 64), ocpp.UnitOfMeasureV
		case ocpp.MeasurandSoC:
			if !inTx {
				continue
			}
			sv.Value, sv.Unit, sv.Location = strconv.Itoa(int(m.soc)), ocpp.UnitOfMeasurePercent, ocpp.LocationEV
		default:
			continue
		}
		out = append(out, sv)
	}
	return out
}
