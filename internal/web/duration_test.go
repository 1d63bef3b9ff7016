package web_test

import (
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/web"
)

func TestDurationText(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 min"},
		{20 * time.Second, "20 s"},
		{29*time.Second + 600*time.Millisecond, "30 s"},
		{30 * time.Second, "1 min"},
		{59 * time.Minute, "59 min"},
		{65 * time.Minute, "1 h 05 min"},
		{25 * time.Hour, "25 h 00 min"},
	} {
		if got := web.DurationText(c.d); got != c.want {
			t.Errorf("durationText(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
