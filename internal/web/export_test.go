package web

// Messages exposes the texts to the tests.
func Messages() map[string][2]string { return messages }

// DurationText is durationText, for its table test.
var DurationText = durationText
