package tariff

import (
	"cmp"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// LineType is what a line of a cost is for.
type LineType string

const (
	LineEnergy      LineType = "ENERGY"
	LineFlat        LineType = "FLAT"
	LineTime        LineType = "TIME"
	LineParkingTime LineType = "PARKING_TIME"
	LineIdleFee     LineType = "IDLE_FEE"
	// LineMinPrice carries the minimum price when nothing else was charged; otherwise
	// the minimum is spread over the lines (see Cost).
	LineMinPrice LineType = "MIN_PRICE"
	// LineRounding brings the gross total to the payable amount; it has no VAT.
	LineRounding LineType = "ROUNDING"
)

// Line is one line of a cost. Amounts are in minor units (Rappen for CHF).
type Line struct {
	Type LineType `json:"type"`
	// Element is the index in Tariff.Elements of the element that priced the line, -1 for
	// lines that come from no element (idle fee, minimum price, rounding).
	Element int `json:"element"`
	// Quantity billed, after step sizes: Wh (ENERGY), seconds (TIME, PARKING_TIME,
	// IDLE_FEE), 1 (FLAT, MIN_PRICE), 0 (ROUNDING).
	Quantity  int64    `json:"quantity"`
	UnitPrice Micros   `json:"unit_price"`         // per kWh, per hour or per session, excl. VAT
	VATRate   *VATRate `json:"vat_rate,omitempty"` // nil: no VAT applies
	Net       int64    `json:"net"`
	VAT       int64    `json:"vat"`
	Gross     int64    `json:"gross"`
}

// Cost is the priced session, to be shown live and stored with the session at its stop.
//
// All amounts are int64 minor units of Currency. The lines add up exactly: Σ Net = TotalNet,
// Σ VAT = TotalVAT, TotalGross = TotalNet + TotalVAT, Payable = TotalGross + Rounding, and
// the Gross of all lines, the ROUNDING line included, add up to Payable (see Check).
//
// Rounding, in this order:
//  1. Each line's exact amount (price × quantity, kept as a fraction) and its exact VAT.
//  2. Min/max price on the exact amounts of the element lines (not the idle fee, which is a
//     penalty a cap must not neutralise): when the net total is outside the limits excl.
//     VAT, every element line is scaled by the same factor, its VAT with it; then when the
//     gross total is outside the limits incl. VAT (if given), the VAT of every line is
//     scaled so the gross total is the limit. OCPI applies both limits independently, which
//     is how its 10.00/11.00 example comes out with mixed VAT rates. A minimum with nothing
//     to scale (nothing charged) becomes a MIN_PRICE line at the VAT rate of the tariff's
//     first component that has one.
//  3. TotalNet is the exact net total rounded half up to the minor unit, once; TotalGross
//     likewise from the exact gross total; TotalVAT is their difference. Rounding totals
//     once, not per line, keeps them within half a minor unit of the exact price (OCPI's
//     complex example, 8.75 + 1.25 VAT at three rates, would come to 10.01 with the VAT
//     rounded per line or per rate), and rounding the gross rather than the VAT makes the
//     gross grow whenever the exact price does. The VAT may thus be a minor unit off the VAT
//     rounded alone: 2.894903 net at 8.1 % is 2.89 + 0.24 = 3.13, not 2.89 + 0.23.
//  4. The lines get their share of the net and VAT totals by largest remainder: each line
//     is its exact amount rounded down or up to the minor unit, the ones with the largest
//     fractions up, so that they add up to the total exactly.
//  5. Payable is TotalGross rounded to the tariff's payable step (0.05 CHF, half up, when
//     the tariff asks), with the difference as Rounding and as a ROUNDING line.
type Cost struct {
	TariffID      string `json:"tariff_id"`
	TariffVersion int    `json:"tariff_version"`
	Currency      string `json:"currency"`
	Lines         []Line `json:"lines"`
	TotalNet      int64  `json:"total_net"`
	TotalVAT      int64  `json:"total_vat"`
	TotalGross    int64  `json:"total_gross"`
	Rounding      int64  `json:"rounding"`
	Payable       int64  `json:"payable"`

	// What was measured, for display: energy charged, session, charging, parking and
	// billable idle time.
	EnergyWh  int64 `json:"energy_wh"`
	DurationS int64 `json:"duration_s"`
	ChargingS int64 `json:"charging_s"`
	ParkingS  int64 `json:"parking_s"`
	IdleS     int64 `json:"idle_s"`
}

// exactLine is a line whose amounts are still exact fractions of the minor unit.
type exactLine struct {
	Line
	net, vat *big.Rat
	limited  bool // subject to min/max price
}

var errAmount = errors.New("tariff: amount out of range")

func (p *pricer) cost() (Cost, error) {
	t := p.c.t
	currency := t.CurrencyCode()
	c := Cost{
		TariffID: t.ID, TariffVersion: t.Version, Currency: currency,
		EnergyWh: p.energy, DurationS: p.end - p.start, ChargingS: p.chargingS, ParkingS: p.parkingS, IdleS: p.idleS,
	}
	if t.Free {
		return c, nil
	}
	perMinor := microsPerMinor(currency)
	var lines []exactLine
	for i, el := range t.Elements {
		for _, comp := range el.Components {
			var q, unit int64
			switch comp.Type {
			case Flat:
				if p.flat == i {
					q, unit = 1, 1
				}
			case Energy:
				q, unit = p.qty[i][dimEnergy], 1000 // price per kWh, quantity in Wh
			case Time:
				q, unit = p.qty[i][dimTime], 3600 // price per hour, quantity in s
			case ParkingTime:
				q, unit = p.qty[i][dimParking], 3600
			}
			if q > 0 {
				lines = append(lines, newExactLine(LineType(comp.Type), i, q, comp.Price, comp.VAT, unit, perMinor, true))
			}
		}
	}
	lines = p.limit(lines, perMinor)
	if f := t.IdleFee; f != nil && p.idleS > 0 {
		lines = append(lines, newExactLine(LineIdleFee, -1, p.idleS, f.PricePerHour, f.VAT, 3600, perMinor, false))
	}

	nets, vats := make([]*big.Rat, len(lines)), make([]*big.Rat, len(lines))
	for i := range lines {
		nets[i], vats[i] = lines[i].net, lines[i].vat
	}
	exactNet := sum(nets)
	netTotal, ok1 := roundHalfUp(exactNet)
	grossTotal, ok2 := roundHalfUp(exactNet.Add(exactNet, sum(vats)))
	if !ok1 || !ok2 {
		return Cost{}, errAmount
	}
	vatTotal := grossTotal - netTotal
	netShares, vatShares := allocate(nets, netTotal), allocate(vats, vatTotal)
	for i, l := range lines {
		l.Net, l.VAT, l.Gross = netShares[i], vatShares[i], netShares[i]+vatShares[i]
		c.Lines = append(c.Lines, l.Line)
	}
	c.TotalNet, c.TotalVAT, c.TotalGross = netTotal, vatTotal, netTotal+vatTotal
	c.Payable = roundTo(c.TotalGross, t.Rounding)
	c.Rounding = c.Payable - c.TotalGross
	if c.Rounding != 0 {
		c.Lines = append(c.Lines, Line{Type: LineRounding, Element: -1, Gross: c.Rounding})
	}
	return c, nil
}

func newExactLine(typ LineType, elem int, q int64, price Micros, vat *VATRate, unit, perMinor int64, limited bool) exactLine {
	num := new(big.Int).Mul(big.NewInt(int64(price)), big.NewInt(q))
	net := new(big.Rat).SetFrac(num, big.NewInt(unit*perMinor))
	return exactLine{
		Line:    Line{Type: typ, Element: elem, Quantity: q, UnitPrice: price, VATRate: vat},
		net:     net,
		vat:     vatOf(net, vat),
		limited: limited,
	}
}

func vatOf(net *big.Rat, rate *VATRate) *big.Rat {
	if rate == nil {
		return new(big.Rat)
	}
	return new(big.Rat).Mul(net, big.NewRat(int64(*rate), 10000))
}

// limit applies the tariff's min and max price to the exact element lines (see Cost).
func (p *pricer) limit(lines []exactLine, perMinor int64) []exactLine {
	t := p.c.t
	if t.MinPrice == nil && t.MaxPrice == nil {
		return lines
	}
	minor := func(m Micros) *big.Rat { return big.NewRat(int64(m), perMinor) }
	total := func(f func(l *exactLine) *big.Rat) *big.Rat {
		s := new(big.Rat)
		for i := range lines {
			if lines[i].limited {
				s.Add(s, f(&lines[i]))
			}
		}
		return s
	}
	net := total(func(l *exactLine) *big.Rat { return l.net })
	target := net
	if t.MaxPrice != nil && net.Cmp(minor(t.MaxPrice.ExclVAT)) > 0 {
		target = minor(t.MaxPrice.ExclVAT)
	}
	if t.MinPrice != nil && net.Cmp(minor(t.MinPrice.ExclVAT)) < 0 {
		target = minor(t.MinPrice.ExclVAT)
	}
	if target.Cmp(net) != 0 {
		if net.Sign() > 0 {
			f := new(big.Rat).Quo(target, net)
			for i := range lines {
				if lines[i].limited {
					lines[i].net.Mul(lines[i].net, f)
					lines[i].vat.Mul(lines[i].vat, f)
				}
			}
		} else {
			lines = append(lines, p.minPriceLine(target))
		}
	}
	gross := total(func(l *exactLine) *big.Rat { return new(big.Rat).Add(l.net, l.vat) })
	grossTarget := gross
	if t.MaxPrice != nil && t.MaxPrice.InclVAT != nil && gross.Cmp(minor(*t.MaxPrice.InclVAT)) > 0 {
		grossTarget = minor(*t.MaxPrice.InclVAT)
	}
	if t.MinPrice != nil && t.MinPrice.InclVAT != nil && gross.Cmp(minor(*t.MinPrice.InclVAT)) < 0 {
		grossTarget = minor(*t.MinPrice.InclVAT)
	}
	if grossTarget.Cmp(gross) == 0 {
		return lines
	}
	vatTarget := new(big.Rat).Sub(grossTarget, target)
	vat := total(func(l *exactLine) *big.Rat { return l.vat })
	if vat.Sign() > 0 {
		f := new(big.Rat).Quo(vatTarget, vat)
		for i := range lines {
			if lines[i].limited {
				lines[i].vat.Mul(lines[i].vat, f)
			}
		}
		return lines
	}
	// No VAT to scale (every rate 0 or none) yet a gross limit above the net one: the
	// difference goes to the largest line, or to a MIN_PRICE line if nothing was charged.
	best := -1
	for i := range lines {
		if lines[i].limited && (best < 0 || lines[i].net.Cmp(lines[best].net) > 0) {
			best = i
		}
	}
	if best < 0 {
		lines = append(lines, p.minPriceLine(new(big.Rat)))
		best = len(lines) - 1
	}
	lines[best].vat = vatTarget
	return lines
}

// minPriceLine charges a minimum price when there is nothing to scale up, at the VAT rate of
// the tariff's first component that has one.
func (p *pricer) minPriceLine(net *big.Rat) exactLine {
	var rate *VATRate
	for _, el := range p.c.t.Elements {
		for _, comp := range el.Components {
			if rate == nil && comp.VAT != nil {
				rate = comp.VAT
			}
		}
	}
	var unit Micros
	if m := p.c.t.MinPrice; m != nil {
		unit = m.ExclVAT
	}
	return exactLine{
		Line:    Line{Type: LineMinPrice, Element: -1, Quantity: 1, UnitPrice: unit, VATRate: rate},
		net:     new(big.Rat).Set(net),
		vat:     vatOf(net, rate),
		limited: true,
	}
}

func sum(xs []*big.Rat) *big.Rat {
	s := new(big.Rat)
	for _, x := range xs {
		s.Add(s, x)
	}
	return s
}

// roundHalfUp rounds a non-negative fraction to the nearest integer, halves up.
func roundHalfUp(x *big.Rat) (int64, bool) {
	num := new(big.Int).Lsh(x.Num(), 1)
	num.Add(num, x.Denom())
	q := num.Quo(num, new(big.Int).Lsh(x.Denom(), 1))
	return q.Int64(), q.IsInt64()
}

// allocate splits total among xs by largest remainder: each share is its x rounded down,
// plus one for the largest fractions (earlier lines first on a tie) until the shares add up
// to total. With total the rounded sum of xs, every share is x rounded down or up.
func allocate(xs []*big.Rat, total int64) []int64 {
	shares := make([]int64, len(xs))
	fracs := make([]*big.Rat, len(xs))
	var floor int64
	for i, x := range xs {
		q, r := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
		shares[i] = q.Int64()
		fracs[i] = new(big.Rat).SetFrac(r, x.Denom())
		floor += shares[i]
	}
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return fracs[b].Cmp(fracs[a]) })
	for k := int64(0); k < total-floor && k < int64(len(order)); k++ {
		shares[order[k]]++
	}
	return shares
}

// roundTo rounds a non-negative amount to the payable step.
func roundTo(amount int64, r Rounding) int64 {
	step := r.PayableStep
	if step <= 1 {
		return amount
	}
	q, rem := amount/step, amount%step
	switch r.Mode {
	case Down:
	case Up:
		if rem > 0 {
			q++
		}
	default:
		if 2*rem >= step {
			q++
		}
	}
	return q * step
}

// Check verifies that the cost adds up; it is what every Cost from Price satisfies.
func (c Cost) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("tariff: cost: "+format, args...)) }
	if c.Currency == "" {
		bad("no currency")
	}
	var net, vat, gross int64
	for i, l := range c.Lines {
		if l.Type == LineRounding {
			if i != len(c.Lines)-1 || l.Net != 0 || l.VAT != 0 || l.Gross != c.Rounding || c.Rounding == 0 {
				bad("lines[%d]: a rounding line is last, carries Rounding (%d) as gross only, and only when it is not 0", i, c.Rounding)
			}
		} else {
			if l.Net < 0 || l.VAT < 0 {
				bad("lines[%d]: negative amount", i)
			}
			if l.Gross != l.Net+l.VAT {
				bad("lines[%d]: gross %d is not net %d + VAT %d", i, l.Gross, l.Net, l.VAT)
			}
			net += l.Net
			vat += l.VAT
		}
		gross += l.Gross
	}
	if c.Rounding != 0 && (len(c.Lines) == 0 || c.Lines[len(c.Lines)-1].Type != LineRounding) {
		bad("rounding %d without a rounding line", c.Rounding)
	}
	if net != c.TotalNet {
		bad("lines net %d, total net %d", net, c.TotalNet)
	}
	if vat != c.TotalVAT {
		bad("lines VAT %d, total VAT %d", vat, c.TotalVAT)
	}
	if c.TotalGross != c.TotalNet+c.TotalVAT {
		bad("total gross %d is not net %d + VAT %d", c.TotalGross, c.TotalNet, c.TotalVAT)
	}
	if c.Payable != c.TotalGross+c.Rounding {
		bad("payable %d is not gross %d + rounding %d", c.Payable, c.TotalGross, c.Rounding)
	}
	if gross != c.Payable {
		bad("lines gross %d, payable %d", gross, c.Payable)
	}
	if c.Payable < 0 {
		bad("negative payable")
	}
	return errors.Join(errs...)
}

// VATTotal is the net amount and VAT of the lines at one rate.
type VATTotal struct {
	Rate *VATRate `json:"rate,omitempty"` // nil: lines without VAT
	Net  int64    `json:"net"`
	VAT  int64    `json:"vat"`
}

// VATByRate sums the lines per VAT rate, as a Swiss invoice shows them: no-VAT first, then
// by rate.
func (c Cost) VATByRate() []VATTotal {
	var out []VATTotal
	for _, l := range c.Lines {
		if l.Type == LineRounding {
			continue
		}
		i := slices.IndexFunc(out, func(v VATTotal) bool { return sameRate(v.Rate, l.VATRate) })
		if i < 0 {
			out = append(out, VATTotal{Rate: l.VATRate})
			i = len(out) - 1
		}
		out[i].Net += l.Net
		out[i].VAT += l.VAT
	}
	slices.SortFunc(out, func(a, b VATTotal) int { return cmp.Compare(rateKey(a.Rate), rateKey(b.Rate)) })
	return out
}

func sameRate(a, b *VATRate) bool { return rateKey(a) == rateKey(b) }

func rateKey(r *VATRate) int64 {
	if r == nil {
		return -1
	}
	return int64(*r)
}
