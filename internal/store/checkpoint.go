package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// SQLite copies the WAL back into the database file in a checkpoint. Left to itself it does
// so inside whichever commit crosses wal_autocheckpoint, with two fsyncs, and every write
// waiting on that group commit waits with it. A checkpointer of our own runs them on its
// own connection, beside the writer: a PASSIVE checkpoint never blocks the writer.
const (
	checkpointInterval = 500 * time.Millisecond
	// sqliteAutoCheckpointPages is SQLite's own checkpoint, kept as a safety net should the
	// checkpointer fall far behind (4 KiB pages: 160 MB of WAL).
	sqliteAutoCheckpointPages = 40000
)

type checkpointer struct {
	db     *sql.DB
	logger *slog.Logger
	stop   chan struct{}
	done   sync.WaitGroup
	once   sync.Once
}

func startCheckpointer(db *sql.DB, logger *slog.Logger) *checkpointer {
	c := &checkpointer{db: db, logger: logger, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if _, err := c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			c.logger.Warn("store: sqlite checkpoint", "err", err)
		}
	}
}

// close stops the checkpointer and closes its connection; the writer's close checkpoints
// what is left.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	c.done.Wait()
	return c.db.Close()
}
