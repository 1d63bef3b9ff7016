package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrations are numbered NNNN_name.sql and applied in order, each once, each in its own
// transaction. A migration that has been released is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

type migration struct {
	version int64
	name    string
	sql     string
}

func loadMigrations(d dialect) ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", base)
		}
		b, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{
			version: v,
			name:    base,
			sql:     strings.ReplaceAll(string(b), "{{id}}", d.idColumn()),
		})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same number", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database has not had yet.
func migrate(ctx context.Context, db *sql.DB, d dialect, logger *slog.Logger) error {
	ms, err := loadMigrations(d)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, m := range ms {
		applied, err := migrationApplied(ctx, db, m.version)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		if applied {
			continue
		}
		if err := applyMigration(ctx, db, m); err != nil {
			// Another node may have applied it at the same moment: its row in
			// schema_migrations made our insert wait and then fail.
			if again, err2 := migrationApplied(ctx, db, m.version); err2 == nil && again {
				continue
			}
			return fmt.Errorf("store: migrate %s: %w", m.name, err)
		}
		logger.Info("store: applied migration", "migration", m.name)
	}
	return nil
}

func migrationApplied(ctx context.Context, db *sql.DB, version int64) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n)
	return n > 0, err
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The row goes in first so that a second node migrating concurrently blocks on it
	// (PostgreSQL runs DDL in transactions) instead of running the same DDL.
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.version, time.Now().UnixMilli()); err != nil {
		return err
	}
	// Both drivers run a string of several statements when it has no arguments.
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	return tx.Commit()
}
