// Package tariff is chargebook's price model and session cost calculation.
//
// A Tariff is shaped like an OCPI 2.2.1 tariff (elements of ENERGY, TIME, PARKING_TIME and
// FLAT price components under time, day, date, energy, power and duration restrictions, with
// min/max price) so that ToOCPI can export it, plus what an eCarUp-like operator needs
// beyond OCPI: an idle fee after a grace period, free charging, versions, and the rounding
// of the payable amount to 0.05 CHF. Plans give tariffs to the public, to user groups and
// to single users; Choose applies eCarUp's precedence (the user's own price, else the
// cheapest of their groups', else the public one) and InForce picks the version of a tariff
// that was in force when a session started.
//
// Price computes the Cost of a session, with its lines (energy, time, parking, flat, idle
// fee, VAT, rounding) in integer minor units that add up exactly. It is the same computation
// live, while charging, and final, at the stop.
//
// The package is pure: no clock, no database, no goroutines, no I/O. Everything it needs,
// the current time included, comes in its arguments, so that a price is a function of the
// tariff and the meter timeline, tested by table and fuzzed. Storing tariffs and costs,
// reading meter values and invoicing belong to other packages.
package tariff
