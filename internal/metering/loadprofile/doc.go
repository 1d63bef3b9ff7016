// Package loadprofile writes and reads 15-minute load profiles: the energy of a meter (a
// station, a connector, a user's sessions, a building's PV production) per quarter hour, as
// CSV for spreadsheets and other tools, and as SDAT-CH-style XML for Swiss energy
// utilities and ZEV billing tools.
//
// It is pure encoding: no database, no HTTP, no clock reads. It knows nothing of how a
// series is computed (package metering) or served (package api); its input and output are
// the small types of this package, which callers convert to and from their own.
//
// Energy is whole Wh throughout. Written decimals are exact (1234 Wh is 1.234 kWh, never a
// float rounding of it); read decimals are converted to Wh exactly and rounded to the
// nearest Wh only where the unit asks for it (a W average over a quarter hour is a quarter
// of a Wh per W).
package loadprofile
