package tariff

// minorDigits is the number of decimals of a currency's minor unit (ISO 4217). Most have
// two; these are the exceptions chargebook could plausibly meet.
func minorDigits(currency string) int {
	switch currency {
	case "JPY", "KRW", "ISK", "CLP", "VND":
		return 0
	case "BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD":
		return 3
	}
	return 2
}

// microsPerMinor is how many Micros make one minor unit (10_000 for CHF: 1 Rappen).
func microsPerMinor(currency string) int64 {
	m := int64(MicrosPerUnit)
	for range minorDigits(currency) {
		m /= 10
	}
	return m
}
