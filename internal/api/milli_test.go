package api

import (
	"math"
	"testing"
)

func TestMilliNumber(t *testing.T) {
	for _, tc := range []struct {
		milli int64
		want  string
	}{
		{0, "0"},
		{1, "0.001"},
		{10, "0.01"},
		{100, "0.1"},
		{1000, "1"},
		{1500, "1.5"},
		{12345, "12.345"},
		{2500000, "2500"},
		{-5, "-0.005"},
		{-1500, "-1.5"},
		{math.MaxInt64, "9223372036854775.807"},
		{math.MinInt64, "-9223372036854775.808"},
	} {
		if got := milliNumber(tc.milli); string(got) != tc.want {
			t.Errorf("milliNumber(%d) = %s, want %s", tc.milli, got, tc.want)
		}
	}
}
