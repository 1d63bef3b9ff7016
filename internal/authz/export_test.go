package authz

import "context"

// StopEnded, SyncChanged and ResyncAll run one round of Run's work, for tests that move
// the clock.
func StopEnded(ctx context.Context, s *Service)   { s.stopEnded(ctx) }
func SyncChanged(ctx context.Context, s *Service) { s.syncChanged(ctx) }
func ResyncAll(ctx context.Context, s *Service)   { s.resyncAll(ctx) }
