package loadprofile

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Quarter is the length of an interval of a load profile.
const Quarter = 15 * time.Minute

// The qualities a Point can have: those of package metering, and Idle for a quarter hour
// in which no session was open (its energy is 0 and it is not missing data).
const (
	Measured     = "measured"
	Interpolated = "interpolated"
	Estimated    = "estimated"
	Missing      = "missing"
	Idle         = "idle"
)

// Point is the energy of one quarter hour.
type Point struct {
	Start    time.Time // on a UTC quarter hour
	EnergyWh int64
	Quality  string // Measured, Interpolated, Estimated, Missing or Idle
	HT       bool   // high tariff (Hochtarif); low tariff (NT) otherwise
}

// Profile is the points of one group: a station, a connector, a user, or everything.
// Its key fields are written only as CSVOptions asks.
type Profile struct {
	Station   string // chargePointId
	Connector int
	User      string // the user's name, or the idTag of a tag without a user
	Points    []Point
}

// CSVOptions say how WriteCSV writes.
type CSVOptions struct {
	// Location is the zone of the local columns; nil is Europe/Zurich.
	Location *time.Location
	// Separator is the field separator: ',' (the default, RFC 4180) or ';'. Excel set to a
	// German, French or Italian locale (as most Swiss users' are) splits a CSV file on ';'
	// when it is opened with a double click, and reads ',' as the decimal separator;
	// ';' with DecimalComma gives such users columns and numbers they can sum.
	Separator rune
	// DecimalComma writes 1,234 instead of 1.234. Fields holding a comma are quoted when the
	// separator is ','.
	DecimalComma bool
	// BOM starts the file with a UTF-8 byte order mark, without which Excel reads UTF-8
	// (a user "Zoë") as Windows-1252.
	BOM bool
	// Station, Connector and User add the key columns of a grouped series, in that order,
	// before the time columns.
	Station, Connector, User bool
}

// Columns of a written CSV file after the key columns, in order. Times are RFC 3339: the
// interval start in UTC, and the start and end on the wall clock of CSVOptions.Location
// with its offset, so that the repeated hour of an autumn night reads unambiguously.
var csvColumns = []string{"interval_start_utc", "interval_start_local", "interval_end_local",
	"energy_kwh", "average_kw", "quality", "tariff"}

// WriteCSV writes profiles as CSV, UTF-8, one header line then one line per point of each
// profile in order, lines ending in CRLF as RFC 4180 has it. Energy is in kWh and the
// average power over the quarter hour in kW, both exact decimals of three places (Wh/1000
// and Wh*4/1000); the tariff is HT or NT.
//
// Comma-separated by default because RFC 4180 is what programs read without being told;
// see CSVOptions.Separator for spreadsheets in Swiss locales.
//
// Key cells that start with '=', '+', '-', '@', a tab or a carriage return get a leading
// apostrophe, so that a spreadsheet shows them as text instead of running them as a formula
// (a chargePointId is chosen by the charger, a user name by whoever made the user).
func WriteCSV(w io.Writer, profiles []Profile, opts CSVOptions) error {
	loc := opts.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Europe/Zurich"); err != nil {
			return fmt.Errorf("loadprofile: write csv: %w", err)
		}
	}
	sep := opts.Separator
	if sep == 0 {
		sep = ','
	}
	if sep != ',' && sep != ';' && sep != '\t' {
		return fmt.Errorf("loadprofile: write csv: separator %q: want ',', ';' or tab", sep)
	}
	dec := byte('.')
	if opts.DecimalComma {
		dec = ','
	}
	if opts.BOM {
		if _, err := io.WriteString(w, "\uFEFF"); err != nil {
			return fmt.Errorf("loadprofile: write csv: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma = sep
	cw.UseCRLF = true

	var header []string
	if opts.Station {
		header = append(header, "station")
	}
	if opts.Connector {
		header = append(header, "connector")
	}
	if opts.User {
		header = append(header, "user")
	}
	header = append(header, csvColumns...)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("loadprofile: write csv: %w", err)
	}
	row := make([]string, 0, len(header))
	for _, p := range profiles {
		for _, pt := range p.Points {
			row = row[:0]
			if opts.Station {
				row = append(row, textCell(p.Station))
			}
			if opts.Connector {
				row = append(row, strconv.Itoa(p.Connector))
			}
			if opts.User {
				row = append(row, textCell(p.User))
			}
			start := pt.Start.UTC()
			tariff := "NT"
			if pt.HT {
				tariff = "HT"
			}
			row = append(row,
				start.Format(time.RFC3339),
				start.In(loc).Format(time.RFC3339),
				start.Add(Quarter).In(loc).Format(time.RFC3339),
				formatMilli(pt.EnergyWh, dec),
				formatMilli(pt.EnergyWh*4, dec),
				pt.Quality,
				tariff)
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("loadprofile: write csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("loadprofile: write csv: %w", err)
	}
	return nil
}

// textCell keeps a spreadsheet from reading a text cell as a formula (OWASP "CSV
// injection").
func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
