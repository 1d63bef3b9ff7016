package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/chargebook/chargebook/internal/account"
)

// tokenJSON is a token as token list shows it: never its secret.
type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

func toTokenJSON(t account.Token) tokenJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return tokenJSON{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
		LastUsedAt: opt(t.LastUsedAt), RevokedAt: opt(t.RevokedAt)}
}

func runTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newAccountCommand("token create", "e-mail of an operator of the account the token acts for", stderr)
	fs := cmd.flags
	name := fs.String("name", "", "what the token is for, shown by token list")
	st, a, err := cmd.open(ctx, args, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, secret := account.NewToken(a.ID, *name, time.Now())
	if tok, err = st.CreateToken(ctx, tok); err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	// The only time the secret is shown: the store keeps its hash.
	return printJSON(stdout, map[string]any{"id": tok.ID, "name": tok.Name, "token": secret})
}

func runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newAccountCommand("token list", "e-mail of an operator of the account", stderr)
	st, a, err := cmd.open(ctx, args, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	tokens, err := st.Tokens(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	out := make([]tokenJSON, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, toTokenJSON(t))
	}
	return printJSON(stdout, out)
}

func runTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := newAccountCommand("token revoke", "e-mail of an operator of the account", stderr)
	fs := cmd.flags
	id := fs.Int64("id", 0, "the token's id, as token list shows it")
	st, a, err := cmd.open(ctx, args, func() error {
		if *id <= 0 {
			return errors.New("token revoke: --id of a token is required")
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer st.Close()
	err = st.RevokeToken(ctx, a.ID, *id, time.Now())
	if errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("token revoke: the account has no token %d", *id)
	}
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	tokens, err := st.Tokens(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	for _, t := range tokens {
		if t.ID == *id {
			return printJSON(stdout, toTokenJSON(t))
		}
	}
	return fmt.Errorf("token revoke: token %d vanished", *id)
}
