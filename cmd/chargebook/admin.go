package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/chargebook/chargebook/internal/account"
	"github.com/chargebook/chargebook/internal/station"
	"github.com/chargebook/chargebook/internal/store"
)

func quietLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runOperatorCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("operator create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	email := fs.String("email", "", "the operator's e-mail address, used to log in")
	password := fs.String("password", "", fmt.Sprintf("the operator's password (at least %d characters)", account.MinPasswordLength))
	name := fs.String("name", "", "the account's name (default: the e-mail address)")
	public := fs.String("public-url", env("CHARGEBOOK_PUBLIC_URL", "http://localhost:8080"), "the server's address as chargers reach it, for the printed OCPP URL (env CHARGEBOOK_PUBLIC_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return errors.New("operator create: --email and --password are required")
	}
	a, op, err := account.New(*name, *email, *password, time.Now())
	if err != nil {
		return fmt.Errorf("operator create: %w", err)
	}
	st, err := sf.open(ctx, quietLogger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	a, op, err = st.CreateAccount(ctx, a, op)
	if errors.Is(err, account.ErrDuplicate) {
		return fmt.Errorf("operator create: %s already has an account", op.Email)
	}
	if err != nil {
		return fmt.Errorf("operator create: %w", err)
	}
	return printJSON(stdout, map[string]any{
		"accountId":  a.ID,
		"accountKey": a.Key,
		"operatorId": op.ID,
		"email":      op.Email,
		"ocppUrl":    ocppURL(baseURL(*public, "", false), a.Key),
	})
}

// accountCommand is the shape of the admin commands that act on one account: the store
// flags, --email of an operator of the account, and the command's own flags.
type accountCommand struct {
	flags  *flag.FlagSet
	sf     storeFlags
	email  *string
	stderr io.Writer
}

func newAccountCommand(name, emailHelp string, stderr io.Writer) *accountCommand {
	c := &accountCommand{flags: flag.NewFlagSet(name, flag.ContinueOnError), stderr: stderr}
	c.flags.SetOutput(stderr)
	c.sf.register(c.flags)
	c.email = c.flags.String("email", "", emailHelp)
	return c
}

// open parses the arguments, runs check (the command's own checks of its flags; may be
// nil), opens the store and finds the account of the operator's e-mail address.
func (c *accountCommand) open(ctx context.Context, args []string, check func() error) (*store.Store, account.Account, error) {
	if err := c.flags.Parse(args); err != nil {
		return nil, account.Account{}, err
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, account.Account{}, err
		}
	}
	if *c.email == "" {
		return nil, account.Account{}, errors.New("--email of an operator of the account is required")
	}
	st, err := c.sf.open(ctx, quietLogger(c.stderr))
	if err != nil {
		return nil, account.Account{}, err
	}
	op, err := st.OperatorByEmail(ctx, *c.email)
	if err == nil {
		var a account.Account
		if a, err = st.AccountByID(ctx, op.AccountID); err == nil {
			return st, a, nil
		}
	}
	st.Close()
	if errors.Is(err, account.ErrNotFound) {
		return nil, account.Account{}, fmt.Errorf("no operator %s", *c.email)
	}
	return nil, account.Account{}, err
}

func runAccountSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newAccountCommand("account set", "e-mail of an operator of the account", stderr)
	fs := cmd.flags
	approve := fs.Bool("approve-new-stations", false, "new stations wait for approval (BootNotification Pending) instead of being accepted")
	heartbeat := fs.Duration("heartbeat-interval", account.DefaultHeartbeatInterval, "heartbeat interval given to stations")
	validation := fs.String("station-validation", string(account.Strict), "validation mode of newly registered stations: strict or lenient")
	tz := fs.String("timezone", account.DefaultTimeZone, "the account's time zone (IANA name)")
	st, a, err := cmd.open(ctx, args, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	var problem error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "approve-new-stations":
			a.ApproveNewStations = *approve
		case "heartbeat-interval":
			if *heartbeat < 10*time.Second || *heartbeat > 24*time.Hour {
				problem = errors.New("--heartbeat-interval must be between 10s and 24h")
			}
			a.HeartbeatInterval = *heartbeat
		case "station-validation":
			if v := account.Validation(*validation); v.Valid() {
				a.StationValidation = v
			} else {
				problem = fmt.Errorf("--station-validation: %q is neither strict nor lenient", *validation)
			}
		case "timezone":
			if _, err := time.LoadLocation(*tz); err != nil {
				problem = fmt.Errorf("--timezone: %w", err)
			}
			a.TimeZone = *tz
		}
	})
	if problem != nil {
		return problem
	}
	if err := st.UpdateAccount(ctx, a); err != nil {
		return fmt.Errorf("account set: %w", err)
	}
	return printJSON(stdout, map[string]any{
		"accountId": a.ID, "approveNewStations": a.ApproveNewStations,
		"heartbeatIntervalSeconds": int(a.HeartbeatInterval / time.Second),
		"stationValidation":        a.StationValidation, "timeZone": a.TimeZone,
	})
}

type stationJSON struct {
	ChargePointID string               `json:"chargePointId"`
	Registration  station.Registration `json:"registration"`
	Validation    account.Validation   `json:"validation"`
	Connected     bool                 `json:"connected"`
	Vendor        string               `json:"vendor,omitempty"`
	Model         string               `json:"model,omitempty"`
	Firmware      string               `json:"firmwareVersion,omitempty"`
	LastBootAt    *time.Time           `json:"lastBootAt,omitempty"`
	LastSeenAt    *time.Time           `json:"lastSeenAt,omitempty"`
}

func toStationJSON(s station.Station) stationJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return stationJSON{
		ChargePointID: s.ChargePointID, Registration: s.Registration, Validation: s.Validation,
		Connected: s.Connected, Vendor: s.Boot.Vendor, Model: s.Boot.Model, Firmware: s.Boot.FirmwareVersion,
		LastBootAt: opt(s.LastBootAt), LastSeenAt: opt(s.LastSeenAt),
	}
}

func runStationList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newAccountCommand("station list", "e-mail of an operator of the account", stderr)
	st, a, err := cmd.open(ctx, args, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	stations, err := st.Stations(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("station list: %w", err)
	}
	out := make([]stationJSON, 0, len(stations))
	for _, s := range stations {
		out = append(out, toStationJSON(s))
	}
	return printJSON(stdout, out)
}

func runStationSet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newAccountCommand("station set", "e-mail of an operator of the account", stderr)
	fs := cmd.flags
	id := fs.String("station", "", "the station's charge point id")
	reg := fs.String("registration", "", "Accepted (approve), Pending or Rejected")
	validation := fs.String("validation", "", "strict or lenient")
	st, a, err := cmd.open(ctx, args, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.StationByChargePointID(ctx, a.ID, *id)
	if errors.Is(err, station.ErrNotFound) {
		return fmt.Errorf("station set: the account has no station %q", *id)
	}
	if err != nil {
		return fmt.Errorf("station set: %w", err)
	}
	if *reg != "" {
		r := station.Registration(*reg)
		if r != station.Accepted && r != station.Pending && r != station.Rejected {
			return fmt.Errorf("--registration: %q is not Accepted, Pending or Rejected", *reg)
		}
		if err := st.SetRegistration(ctx, a.ID, s.ID, r); err != nil {
			return fmt.Errorf("station set: %w", err)
		}
		s.Registration = r
	}
	if *validation != "" {
		v := account.Validation(*validation)
		if !v.Valid() {
			return fmt.Errorf("--validation: %q is neither strict nor lenient", *validation)
		}
		if err := st.SetValidation(ctx, a.ID, s.ID, v); err != nil {
			return fmt.Errorf("station set: %w", err)
		}
		s.Validation = v
	}
	return printJSON(stdout, toStationJSON(s))
}
