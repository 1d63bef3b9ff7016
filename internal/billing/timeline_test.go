package billing

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

var t0 = time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)

func min_(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

func ptr[T any](v T) *T { return &v }

func register(m int, wh int64) station.MeterValue {
	return station.MeterValue{Timestamp: min_(m), Measurand: station.DefaultMeasurand, Unit: "Wh", Milli: ptr(wh * 1000)}
}

func powerReading(m int, w int64) station.MeterValue {
	return station.MeterValue{Timestamp: min_(m), Measurand: "Power.Active.Import", Unit: "W", Milli: ptr(w * 1000)}
}

func sample(m int, wh int64) tariff.Sample { return tariff.Sample{At: min_(m), EnergyWh: wh} }

func TestTimeline(t *testing.T) {
	open := station.Transaction{ID: 1, MeterStartWh: 1000, StartedAt: min_(0)}
	stopped := open
	stopped.Stopped, stopped.MeterStopWh, stopped.StoppedAt = true, 5000, min_(60)
	reset := stopped
	reset.MeterStopWh, reset.EnergyWh, reset.Flags = 10, ptr[int64](3000), []station.Flag{station.FlagRegisterReset}
	lost := reset
	lost.EnergyWh = nil
	unknown := stopped
	unknown.Flags = []station.Flag{station.FlagUnknownStart}
	backwards := stopped
	backwards.StoppedAt = min_(-5)

	tests := []struct {
		name   string
		tx     station.Transaction
		values []station.MeterValue
		end    time.Time
		want   []tariff.Sample
		err    string
	}{
		{"stopped without readings: start and stop", stopped, nil, time.Time{},
			[]tariff.Sample{sample(0, 1000), sample(60, 5000)}, ""},
		{"readings between, out of order, others outside dropped", stopped,
			[]station.MeterValue{register(40, 4000), register(20, 2000), register(-1, 900), register(0, 1000), register(60, 5000), register(61, 5100)},
			time.Time{}, []tariff.Sample{sample(0, 1000), sample(20, 2000), sample(40, 4000), sample(60, 5000)}, ""},
		{"a register never goes down nor above meterStop", stopped,
			[]station.MeterValue{register(10, 3000), register(20, 2500), register(30, 9000)},
			time.Time{}, []tariff.Sample{sample(0, 1000), sample(10, 3000), sample(20, 3000), sample(30, 5000), sample(60, 5000)}, ""},
		{"open: up to now, no stop sample", open,
			[]station.MeterValue{register(10, 1500), register(30, 2500)}, min_(20),
			[]tariff.Sample{sample(0, 1000), sample(10, 1500)}, ""},
		{"open, the station's clock ahead: nothing yet", open, nil, min_(-10),
			[]tariff.Sample{sample(0, 1000)}, ""},
		{"register reset: the settled energy", reset, []station.MeterValue{register(30, 4000)}, time.Time{},
			[]tariff.Sample{sample(0, 1000), sample(30, 4000), sample(60, 4000)}, ""},
		{"register reset without a reading", lost, nil, time.Time{}, nil, "below meterStart"},
		{"unknown start", unknown, nil, time.Time{}, nil, "start of the transaction is unknown"},
		{"stopped before it started", backwards, nil, time.Time{}, nil, "before it started"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Timeline(tc.tx, tc.values, tc.end, time.UTC)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Samples, tc.want) {
				t.Errorf("samples\n got %v\nwant %v", s.Samples, tc.want)
			}
			if !s.Start.Equal(tc.tx.StartedAt) {
				t.Errorf("start %s", s.Start)
			}
		})
	}
}

func TestTimelinePower(t *testing.T) {
	tx := station.Transaction{ID: 1, StartedAt: min_(0), Stopped: true, MeterStopWh: 2000, StoppedAt: min_(60)}
	s, err := Timeline(tx, []station.MeterValue{powerReading(0, 11000), register(30, 1000), powerReading(30, 3500)}, time.Time{}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := []tariff.Sample{{At: min_(0), PowerW: ptr[int64](11000)}, {At: min_(30), EnergyWh: 1000, PowerW: ptr[int64](3500)}, sample(60, 2000)}
	if !reflect.DeepEqual(s.Samples, want) {
		t.Errorf("samples\n got %v\nwant %v", s.Samples, want)
	}
}

func TestHypothetical(t *testing.T) {
	h := Hypothetical{Start: min_(0), Duration: 2 * time.Hour, Charging: 90 * time.Minute, EnergyWh: 20000}
	if bad := h.check(); bad != nil {
		t.Fatal(bad)
	}
	s := h.Session(time.UTC)
	want := []tariff.Sample{sample(0, 0), sample(90, 20000), sample(120, 20000)}
	if !reflect.DeepEqual(s.Samples, want) || !s.End.Equal(min_(120)) {
		t.Errorf("session %+v", s)
	}
	for _, tc := range []struct {
		h     Hypothetical
		field string
	}{
		{Hypothetical{Duration: time.Hour}, "start"},
		{Hypothetical{Start: min_(0)}, "durationMinutes"},
		{Hypothetical{Start: min_(0), Duration: time.Hour, Charging: 2 * time.Hour}, "chargingMinutes"},
		{Hypothetical{Start: min_(0), Duration: time.Hour, EnergyWh: 5}, "chargingMinutes"},
		{Hypothetical{Start: min_(0), Duration: time.Hour, Charging: time.Hour, EnergyWh: -5}, "energyWh"},
	} {
		bad := tc.h.check()
		if len(bad) == 0 || bad[0].Field != tc.field {
			t.Errorf("%+v: %v, want a problem with %s", tc.h, bad, tc.field)
		}
	}
}

func TestApplicable(t *testing.T) {
	at := min_(60)
	version := func(tariffID int64, n int, from time.Time) Version {
		return Version{TariffID: tariffID, Version: n, ValidFrom: from, Rules: tariff.Tariff{ID: "x", Version: n, ValidFrom: from,
			Elements: []tariff.Element{{Components: []tariff.Component{{Type: tariff.Energy, Price: 300_000}}}}}}
	}
	tariffs := []Tariff{
		{ID: 1, Versions: []Version{version(1, 1, time.Time{}), version(1, 2, min_(30)), version(1, 3, min_(90))}},
		{ID: 2, Versions: []Version{version(2, 1, time.Time{})}},
		{ID: 3, Versions: []Version{version(3, 1, time.Time{})}, RetiredAt: min_(50)},
		{ID: 4, Versions: []Version{version(4, 1, min_(70))}}, // nothing in force yet
	}
	public := Plan{ID: 1, TariffID: 1, Audience: tariff.Public}
	publicAtCP := Plan{ID: 2, TariffID: 2, Audience: tariff.Public, StationID: 10}
	staff := Plan{ID: 3, TariffID: 2, Audience: tariff.Group, GroupID: 5}
	residents := Plan{ID: 4, TariffID: 1, Audience: tariff.Group, GroupID: 6}
	retired := Plan{ID: 5, TariffID: 3, Audience: tariff.User, UserID: 7}
	notYet := Plan{ID: 6, TariffID: 4, Audience: tariff.User, UserID: 7}
	deleted := Plan{ID: 7, TariffID: 1, Audience: tariff.User, UserID: 8, DeletedAt: min_(60)}
	deletedLater := Plan{ID: 8, TariffID: 2, Audience: tariff.User, UserID: 9, DeletedAt: min_(61)}
	expired := Plan{ID: 9, TariffID: 2, Audience: tariff.User, UserID: 10, ValidTo: min_(60)}
	elsewhere := Plan{ID: 10, TariffID: 2, Audience: tariff.User, UserID: 11, StationID: 99}
	plans := []Plan{public, publicAtCP, staff, residents, retired, notYet, deleted, deletedLater, expired, elsewhere}

	driver := func(user string, groups ...string) tariff.Driver {
		return tariff.Driver{UserID: user, GroupIDs: groups}
	}
	tests := []struct {
		name    string
		d       tariff.Driver
		station int64
		want    []Candidate
	}{
		{"public, version in force at the start", driver(""), 11, []Candidate{{1, 1, 2}}},
		{"a station's own public plan replaces the account's", driver(""), 10, []Candidate{{2, 2, 1}}},
		{"groups beat public; both groups are candidates", driver("1", "5", "6"), 10, []Candidate{{3, 2, 1}, {4, 1, 2}}},
		{"a retired tariff or one not in force yet does not apply", driver("7"), 11, []Candidate{{1, 1, 2}}},
		{"a plan deleted by the start does not apply", driver("8"), 11, []Candidate{{1, 1, 2}}},
		{"a plan deleted after the start does", driver("9"), 11, []Candidate{{8, 2, 1}}},
		{"validity ends before the start", driver("10"), 11, []Candidate{{1, 1, 2}}},
		{"a plan of another station", driver("11"), 11, []Candidate{{1, 1, 2}}},
	}
	for _, tc := range tests {
		got := Applicable(plans, tariffs, tc.d, tc.station, at)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := Applicable(nil, tariffs, driver(""), 1, at); got != nil {
		t.Errorf("no plans: %v", got)
	}
}
