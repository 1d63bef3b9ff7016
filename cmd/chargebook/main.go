// Command chargebook is the charging-station management and billing system: the OCPP 1.6J
// central system, its admin commands, and a station simulator and load tool. This file and
// its siblings only wire the internal packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `chargebook: charging-station management and billing (OCPP 1.6J)

Usage:
  chargebook serve [flags]              run the central system (the default command)
  chargebook operator create [flags]    create an operator account; prints its key and OCPP URL
  chargebook account set [flags]        change an account's settings
  chargebook station list|set [flags]   list stations, approve or reject one, set its validation
  chargebook token create|list|revoke   API tokens of an account (REST API under /api/v1)
  chargebook simulate [flags]           run simulated charge points against a server
  chargebook load [flags]               measure a server under load and print the figures

Run "chargebook COMMAND -h" for the flags of a command. Every flag of serve can also be set
with an environment variable: --listen is CHARGEBOOK_LISTEN, --data is CHARGEBOOK_DATA, ...
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "chargebook:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runServe(ctx, args, stdout, stderr)
	}
	cmd, rest := args[0], args[1:]
	sub := func() (string, []string) {
		if len(rest) == 0 {
			return "", nil
		}
		return rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "operator":
		if s, r := sub(); s == "create" {
			return runOperatorCreate(ctx, r, stdout, stderr)
		}
	case "account":
		if s, r := sub(); s == "set" {
			return runAccountSet(ctx, r, stdout, stderr)
		}
	case "station":
		switch s, r := sub(); s {
		case "list":
			return runStationList(ctx, r, stdout, stderr)
		case "set":
			return runStationSet(ctx, r, stdout, stderr)
		}
	case "token":
		switch s, r := sub(); s {
		case "create":
			return runTokenCreate(ctx, r, stdout, stderr)
		case "list":
			return runTokenList(ctx, r, stdout, stderr)
		case "revoke":
			return runTokenRevoke(ctx, r, stdout, stderr)
		}
	case "simulate":
		return runSimulate(ctx, rest, stdout, stderr)
	case "load":
		return runLoad(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", strings.Join(args, " "))
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
