package loadprofile

import (
	"bytes"
	"encoding/xml"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSDATRoundTrip(t *testing.T) {
	loc := zurich(t)
	day := quarterHours(t, loc, 2026, time.October, 25) // 100 quarter hours
	vols := make([]int64, len(day))
	for i := range vols {
		vols[i] = int64(i*i) % 4000
	}
	doc := SDATDocument{DocumentID: "cb-1-2026-10-25", Created: utcTime("2026-10-26T05:00:00Z"), Series: []SDATSeries{
		{MeteringPointID: "CP-1", Start: day[0], VolumesWh: vols},
		{MeteringPointID: "PV <roof> & co", Production: true, ProductID: "8716867000030", Start: day[40], VolumesWh: []int64{1, 0, 1500}},
	}}
	var b bytes.Buffer
	if err := WriteSDAT(&b, doc); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<rsm:ValidatedMeteredData_12 xmlns:rsm="http://www.strom.ch">`,
		"<rsm:StartDateTime>2026-10-24T22:00:00Z</rsm:StartDateTime>",
		"<rsm:EndDateTime>2026-10-25T23:00:00Z</rsm:EndDateTime>",
		"<rsm:Resolution>15</rsm:Resolution>", "<rsm:Unit>MIN</rsm:Unit>",
		"<rsm:Sequence>100</rsm:Sequence>",
		"<rsm:Volume>1.801</rsm:Volume>", // 99*99 % 4000
		"<rsm:VSENationalID>PV &lt;roof&gt; &amp; co</rsm:VSENationalID>",
		"<rsm:Creation>2026-10-26T05:00:00Z</rsm:Creation>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(out, "<rsm:Sequence>101</rsm:Sequence>") || strings.Count(out, "<rsm:Observation>") != 103 {
		t.Errorf("%d observations, want 100 + 3", strings.Count(out, "<rsm:Observation>"))
	}
	// Well-formed XML.
	d := xml.NewDecoder(strings.NewReader(out))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v", err)
			}
			break
		}
	}
	got, err := ReadSDAT(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, doc) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, doc)
	}
}

// The sample in testdata is shaped like a delivered SDAT-CH file (another root version and
// prefix, sender and receiver, header children in another order, Condition elements,
// observations out of order) and has the 92 quarter hours of the spring DST day.
func TestReadSDATSample(t *testing.T) {
	f, err := os.Open("testdata/sdat-spring-day.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := ReadSDAT(f)
	if err != nil {
		t.Fatal(err)
	}
	if doc.DocumentID != "EXAMPLE-2026-03-29-0001" || !doc.Created.Equal(utcTime("2026-03-30T04:12:00Z")) || len(doc.Series) != 2 {
		t.Fatalf("header %+v", doc)
	}
	cons, pv := doc.Series[0], doc.Series[1]
	if cons.Production || cons.MeteringPointID != "CH9999901234500000000000000EXAMPLE" || cons.ProductID != "9999999999991" {
		t.Errorf("consumption point %+v", cons)
	}
	if len(cons.VolumesWh) != 92 || !cons.Start.Equal(utcTime("2026-03-28T23:00:00Z")) {
		t.Errorf("%d volumes from %s, want 92 from 2026-03-28T23:00:00Z", len(cons.VolumesWh), cons.Start)
	}
	// Position 40: 40 % 7 = 5 -> 0.625 + 0.5 kWh.
	if cons.VolumesWh[39] != 1125 || cons.VolumesWh[0] != 125 {
		t.Errorf("volumes %v", cons.VolumesWh[:41])
	}
	if !pv.Production || pv.ProductID != "9999999999992" || !reflect.DeepEqual(pv.VolumesWh, []int64{6000, 4500, 3000, 1500}) {
		t.Errorf("production point %+v", pv)
	}
}

func TestReadSDATErrors(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSDAT(&b, SDATDocument{DocumentID: "x", Series: []SDATSeries{{MeteringPointID: "m", Start: utcTime("2026-01-01T00:00:00Z"), VolumesWh: []int64{1, 2}}}}); err != nil {
		t.Fatal(err)
	}
	good := b.String()
	for _, c := range []struct{ name, from, to, want string }{
		{"resolution", "<rsm:Resolution>15</rsm:Resolution>", "<rsm:Resolution>60</rsm:Resolution>", "only 15 MIN"},
		{"unit", "<rsm:MeasureUnit>KWH", "<rsm:MeasureUnit>MWH", "measure unit"},
		{"missing position", "<rsm:Sequence>2</rsm:Sequence>", "<rsm:Sequence>1</rsm:Sequence>", "a second observation"},
		{"position out of range", "<rsm:Sequence>2</rsm:Sequence>", "<rsm:Sequence>3</rsm:Sequence>", "want 1 to 2"},
		{"negative", "<rsm:Volume>0.002</rsm:Volume>", "<rsm:Volume>-0.002</rsm:Volume>", "negative"},
		{"volume", "<rsm:Volume>0.002</rsm:Volume>", "<rsm:Volume>1e3</rsm:Volume>", "not a decimal"},
		{"interval", "<rsm:EndDateTime>2026-01-01T00:30:00Z</rsm:EndDateTime>\n    </rsm:Interval>", "<rsm:EndDateTime>2026-01-01T00:20:00Z</rsm:EndDateTime>\n    </rsm:Interval>", "not on a quarter hour"},
		{"root", "ValidatedMeteredData_12", "Something_12", "not an SDAT-CH"},
		{"namespace", "http://www.strom.ch", "http://example.com", "not an SDAT-CH"},
	} {
		bad := strings.ReplaceAll(good, c.from, c.to)
		if bad == good {
			t.Fatalf("%s: replacement did not apply", c.name)
		}
		_, err := ReadSDAT(strings.NewReader(bad))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	if err := WriteSDAT(&b, SDATDocument{Series: []SDATSeries{{Start: utcTime("2026-01-01T00:05:00Z"), VolumesWh: []int64{1}}}}); err == nil {
		t.Error("a series off the quarter hour was written")
	}
}

func FuzzReadSDAT(f *testing.F) {
	sample, err := os.ReadFile("testdata/sdat-spring-day.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample))
	var b bytes.Buffer
	if err := WriteSDAT(&b, SDATDocument{DocumentID: "x", Series: []SDATSeries{{MeteringPointID: "m", Start: utcTime("2026-01-01T00:00:00Z"), VolumesWh: []int64{1, 2}}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(b.String())
	f.Fuzz(func(t *testing.T, in string) {
		doc, err := ReadSDAT(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range doc.Series {
			if !onQuarter(s.Start) || len(s.VolumesWh) == 0 {
				t.Fatalf("series from %s with %d volumes", s.Start, len(s.VolumesWh))
			}
			for _, v := range s.VolumesWh {
				if v < 0 {
					t.Fatalf("volume %d", v)
				}
			}
		}
		// What was read writes and reads back the same.
		var out bytes.Buffer
		if err := WriteSDAT(&out, doc); err != nil {
			t.Fatal(err)
		}
		again, err := ReadSDAT(&out)
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if !reflect.DeepEqual(again.Series, doc.Series) {
			t.Fatal("series differ after a round trip")
		}
	})
}
