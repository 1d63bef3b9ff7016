package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/tariff"
)

// Service keeps an account's tariffs and plans and prices its sessions. As a
// station.Observer it records, when a transaction starts, the plans that may price it, and
// computes and stores its cost when it stops.
type Service struct {
	store     Store
	accounts  Accounts
	stations  Stations
	audiences Audiences
	now       func() time.Time
	log       *slog.Logger
}

var _ station.Observer = (*Service)(nil)

// NewService returns a Service. now is the clock (time.Now outside tests).
func NewService(store Store, accounts Accounts, stations Stations, audiences Audiences, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, accounts: accounts, stations: stations, audiences: audiences, now: now, log: log}
}

// pastTolerance is how far in the past a new version may take effect: the time a request
// takes, not a way to reprice sessions that have started.
const pastTolerance = time.Minute

// maxNameLength bounds a tariff's name.
const maxNameLength = 100

// CreateTariff stores a new tariff of the account, in its currency, with rules as its first
// version, in force from validFrom (zero: for every session, whenever it started). A price
// component or idle fee without a VAT rate gets DefaultVAT. Invalid names every problem.
func (s *Service) CreateTariff(ctx context.Context, acct account.Account, name string, validFrom time.Time, rules tariff.Tariff) (Tariff, error) {
	name = strings.TrimSpace(name)
	bad := checkName(name, true)
	rules = s.prepare(acct, rules, validFrom)
	bad = append(bad, rulesProblems(rules)...)
	if len(bad) > 0 {
		return Tariff{}, bad
	}
	now := s.now().UTC()
	t, err := s.store.CreateTariff(ctx, Tariff{
		AccountID: acct.ID, Name: name, Currency: rules.CurrencyCode(), CreatedAt: now,
		Versions: []Version{{ValidFrom: validFrom, CreatedAt: now, Rules: rules}},
	})
	if err != nil {
		return Tariff{}, fmt.Errorf("billing: create tariff: %w", err)
	}
	return t, nil
}

// ChangeTariff stores rules as the next version of the tariff, in force for sessions that
// start from validFrom on (zero: now), which must not be in the past: a change never
// applies to a session that has started. A non-empty name renames the tariff.
func (s *Service) ChangeTariff(ctx context.Context, acct account.Account, tariffID int64, name string, validFrom time.Time, rules tariff.Tariff) (Tariff, error) {
	now := s.now().UTC()
	name = strings.TrimSpace(name)
	bad := checkName(name, false)
	if validFrom.IsZero() {
		validFrom = now
	} else if validFrom.Before(now.Add(-pastTolerance)) {
		bad = append(bad, FieldError{"validFrom", "in the past: a change applies only to sessions that start after it"})
	}
	rules = s.prepare(acct, rules, validFrom)
	bad = append(bad, rulesProblems(rules)...)
	if len(bad) > 0 {
		return Tariff{}, bad
	}
	t, err := s.store.AddTariffVersion(ctx, acct.ID, tariffID, name, Version{ValidFrom: validFrom, CreatedAt: now, Rules: rules})
	if err != nil {
		return Tariff{}, fmt.Errorf("billing: change tariff %d: %w", tariffID, err)
	}
	return t, nil
}

// RetireTariff retires the tariff now: it prices no session that starts later, and its
// plans with it. Sessions under way keep it.
func (s *Service) RetireTariff(ctx context.Context, accountID, tariffID int64) (Tariff, error) {
	t, err := s.store.RetireTariff(ctx, accountID, tariffID, s.now().UTC())
	if err != nil {
		return Tariff{}, fmt.Errorf("billing: retire tariff %d: %w", tariffID, err)
	}
	return t, nil
}

// Tariff returns a tariff of the account with its versions.
func (s *Service) Tariff(ctx context.Context, accountID, tariffID int64) (Tariff, error) {
	return s.store.Tariff(ctx, accountID, tariffID)
}

// Tariffs returns the account's tariffs, retired ones included.
func (s *Service) Tariffs(ctx context.Context, accountID int64) ([]Tariff, error) {
	return s.store.Tariffs(ctx, accountID)
}

func checkName(name string, required bool) Invalid {
	switch {
	case name == "" && required:
		return Invalid{{"name", "empty"}}
	case len(name) > maxNameLength:
		return Invalid{{"name", fmt.Sprintf("longer than %d bytes", maxNameLength)}}
	}
	return nil
}

// prepare gives rules the account's currency, the validity and default VAT rates. The id and
// version are the store's to give; a placeholder id lets the rules validate before.
func (s *Service) prepare(acct account.Account, rules tariff.Tariff, validFrom time.Time) tariff.Tariff {
	rules.ID, rules.Version = "new", 0
	rules.Currency = acct.Currency
	if rules.Currency == "" {
		rules.Currency = account.DefaultCurrency
	}
	rules.ValidFrom, rules.ValidTo = validFrom, nil
	rate := DefaultVAT
	els := make([]tariff.Element, len(rules.Elements))
	for i, el := range rules.Elements {
		el.Components = append([]tariff.Component(nil), el.Components...)
		for j := range el.Components {
			if el.Components[j].VAT == nil {
				el.Components[j].VAT = &rate
			}
		}
		els[i] = el
	}
	if rules.Elements != nil {
		rules.Elements = els
	}
	if rules.IdleFee != nil {
		f := *rules.IdleFee
		if f.VAT == nil {
			f.VAT = &rate
		}
		rules.IdleFee = &f
	}
	return rules
}

// rulesProblems are the problems tariff.Validate finds, named under "rules.".
func rulesProblems(rules tariff.Tariff) Invalid {
	err := rules.Validate()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var bad Invalid
	for _, e := range errs {
		var fe *tariff.FieldError
		if errors.As(e, &fe) {
			bad = append(bad, FieldError{"rules." + fe.Field, fe.Problem})
		} else {
			bad = append(bad, FieldError{"rules", e.Error()})
		}
	}
	return bad
}

// CreatePlan stores a plan after checking it: a known audience with its user or group (which
// must exist in the account), a tariff of the account that is not retired, and a validity
// that ends after it starts. The caller resolves the station.
func (s *Service) CreatePlan(ctx context.Context, p Plan) (Plan, error) {
	var bad Invalid
	switch p.Audience {
	case tariff.Public:
		if p.UserID != 0 || p.GroupID != 0 {
			bad = append(bad, FieldError{"audience", "a public plan has no userId or groupId"})
		}
	case tariff.User:
		if p.GroupID != 0 {
			bad = append(bad, FieldError{"groupId", "a user's plan has no groupId"})
		}
		ok, err := p.UserID > 0, error(nil)
		if ok {
			ok, err = s.audiences.HasUser(ctx, p.AccountID, p.UserID)
		}
		if err != nil {
			return Plan{}, fmt.Errorf("billing: create plan: %w", err)
		}
		if !ok {
			bad = append(bad, FieldError{"userId", fmt.Sprintf("no user %d in the account", p.UserID)})
		}
	case tariff.Group:
		if p.UserID != 0 {
			bad = append(bad, FieldError{"userId", "a group's plan has no userId"})
		}
		ok, err := p.GroupID > 0, error(nil)
		if ok {
			ok, err = s.audiences.HasGroup(ctx, p.AccountID, p.GroupID)
		}
		if err != nil {
			return Plan{}, fmt.Errorf("billing: create plan: %w", err)
		}
		if !ok {
			bad = append(bad, FieldError{"groupId", fmt.Sprintf("no group %d in the account", p.GroupID)})
		}
	default:
		bad = append(bad, FieldError{"audience", fmt.Sprintf("%q is none of public, group, user", p.Audience)})
	}
	now := s.now().UTC()
	t, err := s.store.Tariff(ctx, p.AccountID, p.TariffID)
	switch {
	case errors.Is(err, ErrNotFound):
		bad = append(bad, FieldError{"tariffId", fmt.Sprintf("no tariff %d in the account", p.TariffID)})
	case err != nil:
		return Plan{}, fmt.Errorf("billing: create plan: %w", err)
	case t.Retired(now):
		bad = append(bad, FieldError{"tariffId", fmt.Sprintf("tariff %d is retired", p.TariffID)})
	}
	if !p.ValidFrom.IsZero() && !p.ValidTo.IsZero() && !p.ValidTo.After(p.ValidFrom) {
		bad = append(bad, FieldError{"validTo", "not after validFrom"})
	}
	if len(bad) > 0 {
		return Plan{}, bad
	}
	p.CreatedAt, p.DeletedAt = now, time.Time{}
	out, err := s.store.CreatePlan(ctx, p)
	if err != nil {
		return Plan{}, fmt.Errorf("billing: create plan: %w", err)
	}
	return out, nil
}

// DeletePlan deletes a plan now: it prices no session that starts later.
func (s *Service) DeletePlan(ctx context.Context, accountID, planID int64) error {
	if err := s.store.DeletePlan(ctx, accountID, planID, s.now().UTC()); err != nil {
		return fmt.Errorf("billing: delete plan %d: %w", planID, err)
	}
	return nil
}

// Plans returns the account's plans that are not deleted.
func (s *Service) Plans(ctx context.Context, accountID int64) ([]Plan, error) {
	all, err := s.store.Plans(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, p := range all {
		if p.DeletedAt.IsZero() {
			out = append(out, p)
		}
	}
	return out, nil
}

// TransactionStarted implements station.Observer: it records the plans that may price the
// transaction, as they are when it starts. A retried start keeps the first record.
func (s *Service) TransactionStarted(ctx context.Context, sess *station.Session, tx station.Transaction, parentIdTag string) error {
	if _, err := s.record(ctx, sess.Account, tx); err != nil {
		return fmt.Errorf("billing: start of transaction %d: %w", tx.ID, err)
	}
	return nil
}

// TransactionStopped implements station.Observer: it computes the cost of the transaction
// and stores it with its lines, replacing what a retried stop or an earlier estimate left.
// A transaction that cannot be priced is recorded as unpriced, with the reason; only a
// failure to read or store makes the station send its stop again.
func (s *Service) TransactionStopped(ctx context.Context, sess *station.Session, tx station.Transaction) error {
	c, err := s.record(ctx, sess.Account, tx)
	if err == nil && (c.Status != StatusUnpriced || len(c.Candidates) > 0) {
		_, err = s.settle(ctx, sess.Account, tx, c)
	}
	if err != nil {
		return fmt.Errorf("billing: stop of transaction %d: %w", tx.ID, err)
	}
	return nil
}

// FirmwareStatus implements station.Observer; firmware costs nothing.
func (s *Service) FirmwareStatus(context.Context, *station.Session, string, time.Time) error {
	return nil
}

// DiagnosticsStatus implements station.Observer; diagnostics cost nothing.
func (s *Service) DiagnosticsStatus(context.Context, *station.Session, string, time.Time) error {
	return nil
}

// Cost returns the cost of a transaction of the account: the final cost of a stopped one,
// an estimate up to now of an open one (computed as the final cost will be, not stored), or
// why it has none. A stopped transaction that has no final cost yet (closed when its station
// rebooted) gets it now, stored; one that has no record at all (started before billing
// existed) gets one as of its start. ErrNotFound if the account has no such transaction.
func (s *Service) Cost(ctx context.Context, acct account.Account, transactionID int64) (SessionCost, error) {
	tx, err := s.stations.Transaction(ctx, acct.ID, transactionID)
	if errors.Is(err, station.ErrNotFound) {
		return SessionCost{}, ErrNotFound
	}
	if err != nil {
		return SessionCost{}, fmt.Errorf("billing: cost of transaction %d: %w", transactionID, err)
	}
	c, err := s.record(ctx, acct, tx)
	switch {
	case err != nil:
	case c.Status == StatusUnpriced && len(c.Candidates) == 0:
	case !tx.Stopped:
		c, err = s.price(ctx, acct, tx, c, s.now())
	case c.Status == StatusOpen:
		c, err = s.settle(ctx, acct, tx, c)
	}
	if err != nil {
		return SessionCost{}, fmt.Errorf("billing: cost of transaction %d: %w", transactionID, err)
	}
	return c, nil
}

// Preview prices a hypothetical session in the account's time zone under a tariff of the
// account (the version in force at h.Start) or, with tariffID 0, under rules as
// CreateTariff would store them.
func (s *Service) Preview(ctx context.Context, acct account.Account, tariffID int64, rules tariff.Tariff, h Hypothetical) (tariff.Cost, error) {
	bad := h.check()
	if tariffID != 0 {
		t, err := s.store.Tariff(ctx, acct.ID, tariffID)
		if errors.Is(err, ErrNotFound) {
			return tariff.Cost{}, append(bad, FieldError{"tariffId", fmt.Sprintf("no tariff %d in the account", tariffID)})
		}
		if err != nil {
			return tariff.Cost{}, fmt.Errorf("billing: preview: %w", err)
		}
		if v, ok := t.Current(h.Start); ok {
			rules = v.Rules
		} else if !h.Start.IsZero() {
			bad = append(bad, FieldError{"start", fmt.Sprintf("no version of tariff %d is in force then", tariffID)})
		}
	} else {
		rules = s.prepare(acct, rules, time.Time{})
		bad = append(bad, rulesProblems(rules)...)
	}
	if len(bad) > 0 {
		return tariff.Cost{}, bad
	}
	loc, err := location(acct)
	if err != nil {
		return tariff.Cost{}, fmt.Errorf("billing: preview: %w", err)
	}
	c, err := tariff.Price(rules, h.Session(loc))
	if err != nil {
		return tariff.Cost{}, fmt.Errorf("billing: preview: %w", err)
	}
	return c, nil
}

// record returns the transaction's record, making it if there is none: the plans that
// applied to its driver at its station when it started.
func (s *Service) record(ctx context.Context, acct account.Account, tx station.Transaction) (SessionCost, error) {
	c, err := s.store.SessionCost(ctx, acct.ID, tx.ID)
	if !errors.Is(err, ErrNotFound) {
		return c, err
	}
	c = SessionCost{TransactionID: tx.ID, AccountID: acct.ID, Status: StatusOpen, RecordedAt: s.now().UTC()}
	plans, err := s.store.Plans(ctx, acct.ID)
	if err != nil {
		return SessionCost{}, err
	}
	// An account without plans (one that does not bill through chargebook) costs a start no
	// more than this read.
	if len(plans) > 0 {
		d, err := s.audiences.DriverOf(ctx, acct.ID, tx.IdTag)
		if err != nil {
			return SessionCost{}, err
		}
		tariffs, err := s.store.Tariffs(ctx, acct.ID)
		if err != nil {
			return SessionCost{}, err
		}
		c.UserID, _ = strconv.ParseInt(d.UserID, 10, 64)
		c.Candidates = Applicable(plans, tariffs, d, tx.StationID, tx.StartedAt)
	}
	if len(c.Candidates) == 0 {
		c.Status = StatusUnpriced
		c.Reason = "no price plan applies to the driver at this station when the session started"
		if len(plans) == 0 {
			c.Reason = "the account has no price plans"
		}
	}
	return s.store.RecordSessionCost(ctx, c)
}

// settle computes the final cost of a stopped transaction and stores it.
func (s *Service) settle(ctx context.Context, acct account.Account, tx station.Transaction, c SessionCost) (SessionCost, error) {
	c, err := s.price(ctx, acct, tx, c, tx.StoppedAt)
	if err != nil {
		return SessionCost{}, err
	}
	if err := s.store.SaveSessionCost(ctx, c); err != nil {
		return SessionCost{}, err
	}
	return c, nil
}

// price computes the cost of tx up to end (its stop, if stopped) under the cheapest of its
// candidates: final for a stopped transaction, an estimate for an open one. A transaction
// that cannot be priced comes back unpriced with the reason, not as an error.
func (s *Service) price(ctx context.Context, acct account.Account, tx station.Transaction, c SessionCost, end time.Time) (SessionCost, error) {
	unpriced := func(reason string) (SessionCost, error) {
		c.Status, c.Reason, c.PlanID, c.Cost, c.PricedAt = StatusUnpriced, reason, 0, tariff.Cost{}, s.now().UTC()
		s.log.Warn("billing: transaction not priced", "account", acct.ID, "transaction", tx.ID, "reason", reason)
		return c, nil
	}
	loc, err := location(acct)
	if err != nil {
		return SessionCost{}, err
	}
	values, err := s.stations.MeterValues(ctx, acct.ID, station.MeterValueFilter{TransactionID: tx.ID})
	if err != nil {
		return SessionCost{}, err
	}
	sess, err := Timeline(tx, values, end, loc)
	if err != nil {
		return unpriced(err.Error())
	}
	tariffs := map[int64]Tariff{}
	var plans []tariff.Plan
	for _, cand := range c.Candidates {
		t, ok := tariffs[cand.TariffID]
		if !ok {
			if t, err = s.store.Tariff(ctx, acct.ID, cand.TariffID); err != nil {
				return SessionCost{}, err
			}
			tariffs[t.ID] = t
		}
		for _, v := range t.Versions {
			if v.Version == cand.TariffVersion {
				// The version was chosen when the session started; only its prices count now.
				r := v.Rules
				r.ValidFrom, r.ValidTo = time.Time{}, nil
				plans = append(plans, tariff.Plan{ID: strconv.FormatInt(cand.PlanID, 10), Audience: tariff.Public, Versions: []tariff.Tariff{r}})
			}
		}
	}
	choice, err := tariff.Choose(plans, tariff.Driver{}, sess)
	if err != nil {
		return unpriced(err.Error())
	}
	c.PlanID, _ = strconv.ParseInt(choice.Plan.ID, 10, 64)
	c.Status, c.Reason, c.Cost, c.PricedAt = StatusEstimate, "", choice.Cost, s.now().UTC()
	if tx.Stopped {
		c.Status = StatusFinal
	}
	return c, nil
}

// location is the account's time zone, in which time-of-day prices are read.
func location(acct account.Account) (*time.Location, error) {
	name := acct.TimeZone
	if name == "" {
		name = account.DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone of account %d: %w", acct.ID, err)
	}
	return loc, nil
}
