package csms

import (
	"context"
	"errors"
	"fmt"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
	"github.com/chargebook/chargebook/internal/operation"
)

// Sender is the Server as the operation.Sender that delivers remote operations: it sends
// them with Call and translates the transport's errors into those of package operation.
type Sender struct {
	Server *Server
}

var _ operation.Sender = Sender{}

// Send implements operation.Sender.
func (s Sender) Send(ctx context.Context, accountID int64, chargePointID string, req any) (any, error) {
	// Encoded here first so that an *ocpp.Error out of Call can only be about the answer.
	if _, err := ocpp.EncodePayload(req); err != nil {
		return nil, fmt.Errorf("send to %s: %w", chargePointID, err)
	}
	resp, err := s.Server.Call(ctx, accountID, chargePointID, req)
	if err == nil {
		return resp, nil
	}
	var (
		callErr *rpc.CallError
		ocppErr *ocpp.Error
	)
	switch {
	case errors.As(err, &callErr):
		return nil, &operation.StationError{Code: string(callErr.Code), Description: callErr.Description}
	case errors.Is(err, ErrNotConnected):
		return nil, operation.ErrNotConnected
	case errors.Is(err, rpc.ErrClosed):
		return nil, fmt.Errorf("%w: the connection closed before the station answered", operation.ErrNotConnected)
	case errors.Is(err, rpc.ErrTimeout):
		return nil, fmt.Errorf("%w: %w", operation.ErrTimeout, err)
	case errors.Is(err, rpc.ErrBadReply), errors.As(err, &ocppErr):
		// Not wrapped: an *ocpp.Error out of Execute means the request was invalid.
		return nil, fmt.Errorf("%w: %v", operation.ErrInvalidResponse, err)
	}
	return nil, fmt.Errorf("send to %s: %w", chargePointID, err)
}
