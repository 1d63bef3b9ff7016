// Package account is the operator side of chargebook: operator accounts and their settings,
// the people who log in to them, the account key that routes a station's OCPP URL to its
// account, and the API tokens that act for the account. It is not about stations or drivers.
package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Errors a Store returns where a caller must decide.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
)

// Role says what an operator may do in an account.
type Role string

// The roles of an operator.
const (
	RoleOwner    Role = "owner"
	RoleManager  Role = "manager"
	RoleReadOnly Role = "read-only"
)

// Validation is how strictly the messages of a station are checked.
type Validation string

// Strict rejects every message that breaks the OCPP 1.6 constraints with the CALLERROR the
// specification asks for; Lenient logs what it can safely read past (unknown fields, too long
// strings, unknown enum values, loose timestamps) and accepts the message.
const (
	Strict  Validation = "strict"
	Lenient Validation = "lenient"
)

// Valid reports whether v is a known validation mode.
func (v Validation) Valid() bool { return v == Strict || v == Lenient }

// Account is one operator's account: its stations, drivers and prices hang off it.
type Account struct {
	ID   int64
	Key  string // the secret path segment of the account's OCPP URL
	Name string
	// TimeZone is an IANA zone name; times are stored in UTC and shown in this zone.
	TimeZone string
	Currency string // ISO 4217
	// ApproveNewStations makes a station that connects for the first time wait, answered
	// with BootNotification Pending, until an operator approves it.
	ApproveNewStations bool
	// HeartbeatInterval is the interval BootNotification.conf gives the stations.
	HeartbeatInterval time.Duration
	// StationValidation is the validation mode a newly registered station starts with.
	StationValidation Validation
	CreatedAt         time.Time
}

// Operator is a person who logs in to an account.
type Operator struct {
	ID           int64
	AccountID    int64
	Email        string
	PasswordHash string
	Role         Role
	CreatedAt    time.Time
}

// Store keeps accounts and operators.
type Store interface {
	// CreateAccount stores a new account with its first operator and returns both with
	// their ids. An e-mail address already in use gives ErrDuplicate.
	CreateAccount(ctx context.Context, a Account, owner Operator) (Account, Operator, error)
	AccountByKey(ctx context.Context, key string) (Account, error)
	AccountByID(ctx context.Context, id int64) (Account, error)
	UpdateAccount(ctx context.Context, a Account) error
	OperatorByEmail(ctx context.Context, email string) (Operator, error)
	CountAccounts(ctx context.Context) (int, error)
}

// Defaults for a new account: the first users are Swiss.
const (
	DefaultTimeZone          = "Europe/Zurich"
	DefaultCurrency          = "CHF"
	DefaultHeartbeatInterval = 5 * time.Minute
	MinPasswordLength        = 10
)

// New returns an account with a fresh key and the defaults, and its owner, after checking
// the e-mail address and password. It does not store them.
func New(name, email, password string, now time.Time) (Account, Operator, error) {
	email = strings.TrimSpace(strings.ToLower(email))
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return Account{}, Operator{}, fmt.Errorf("new account: %q is not an e-mail address", email)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return Account{}, Operator{}, fmt.Errorf("new account: %w", err)
	}
	if name == "" {
		name = email
	}
	a := Account{
		Key:               NewKey(),
		Name:              name,
		TimeZone:          DefaultTimeZone,
		Currency:          DefaultCurrency,
		HeartbeatInterval: DefaultHeartbeatInterval,
		StationValidation: Strict,
		CreatedAt:         now.UTC(),
	}
	op := Operator{Email: email, PasswordHash: hash, Role: RoleOwner, CreatedAt: now.UTC()}
	return a, op, nil
}

// keyAlphabet avoids letters that chargers' web forms or people mistype (no 0/o, 1/l).
const keyAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// NewKey returns a random account key: 24 characters, about 120 bits, safe in a URL path.
func NewKey() string {
	b := make([]byte, 24)
	rand.Read(b) // never fails on supported platforms
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return string(b)
}

// NewPassword returns a random password for a generated first account.
func NewPassword() string { return NewKey()[:16] }

// HashPassword hashes a password with bcrypt after checking its length.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", fmt.Errorf("password must have at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return "", errors.New("password must have at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches the hash.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
