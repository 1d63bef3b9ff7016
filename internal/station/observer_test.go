package station

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
)

// hookStore is the part of a Store the observed messages use; the rest panics if called.
type hookStore struct {
	Store
	log []string // what was stored, in order
}

func (s *hookStore) RecordEvent(ctx context.Context, e Event) error {
	s.log = append(s.log, "event "+e.Kind+" "+e.Note)
	return nil
}

func (s *hookStore) SeeIdTag(ctx context.Context, accountID int64, idTag string, at time.Time) (IdTag, error) {
	return IdTag{AccountID: accountID, IdTag: idTag, ParentIdTag: "PARENT"}, nil
}

func (s *hookStore) StartTransaction(ctx context.Context, start StartTx) (Transaction, bool, error) {
	s.log = append(s.log, "start")
	return Transaction{ID: 42, StationID: start.StationID, ConnectorID: start.ConnectorID, IdTag: start.IdTag, ReservationID: start.ReservationID}, false, nil
}

func (s *hookStore) StopTransaction(ctx context.Context, stop StopTx) (Transaction, error) {
	s.log = append(s.log, "stop")
	return Transaction{ID: stop.TransactionID, StationID: stop.StationID, IdTag: stop.IdTag, Stopped: true}, nil
}

// recorder is an Observer that logs its calls into the store's log, so that the order of
// storing and observing shows, and fails when told to.
type recorder struct {
	store *hookStore
	fail  error
}

func (r *recorder) TransactionStarted(ctx context.Context, sess *Session, tx Transaction, parentIdTag string) error {
	res := -1
	if tx.ReservationID != nil {
		res = *tx.ReservationID
	}
	r.store.log = append(r.store.log, "observed start "+tx.IdTag+" parent "+parentIdTag+" reservation "+itoa(res))
	return r.fail
}

func (r *recorder) TransactionStopped(ctx context.Context, sess *Session, tx Transaction) error {
	r.store.log = append(r.store.log, "observed stop "+tx.IdTag)
	return r.fail
}

func (r *recorder) FirmwareStatus(ctx context.Context, sess *Session, status string, at time.Time) error {
	r.store.log = append(r.store.log, "observed firmware "+status+" at "+at.Format(time.TimeOnly))
	return r.fail
}

func (r *recorder) DiagnosticsStatus(ctx context.Context, sess *Session, status string, at time.Time) error {
	r.store.log = append(r.store.log, "observed diagnostics "+status+" at "+at.Format(time.TimeOnly))
	return r.fail
}

func itoa(n int) string {
	if n < 0 {
		return "none"
	}
	return string(rune('0' + n))
}

func TestObserver(t *testing.T) {
	received := time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC)
	sess := &Session{Station: Station{ID: 1, ChargePointID: "CP", Registration: Accepted}}
	messages := []struct {
		req  any
		want []string
	}{
		{&ocpp.StartTransactionRequest{ConnectorID: 1, IdTag: "TAG", ReservationID: ptr(7), Timestamp: ocpp.DateTime{Time: received}},
			[]string{"start", "observed start TAG parent PARENT reservation 7"}},
		{&ocpp.StartTransactionRequest{ConnectorID: 1, IdTag: "TAG", Timestamp: ocpp.DateTime{Time: received}},
			[]string{"start", "observed start TAG parent PARENT reservation none"}},
		{&ocpp.StopTransactionRequest{TransactionID: 42, IdTag: "TAG", MeterStop: 10, Timestamp: ocpp.DateTime{Time: received}},
			[]string{"stop", "observed stop TAG"}},
		{&ocpp.FirmwareStatusNotificationRequest{Status: "Downloading"},
			[]string{"event FirmwareStatusNotification Downloading", "observed firmware Downloading at 12:30:00"}},
		{&ocpp.DiagnosticsStatusNotificationRequest{Status: "Uploaded"},
			[]string{"event DiagnosticsStatusNotification Uploaded", "observed diagnostics Uploaded at 12:30:00"}},
	}
	for _, observed := range []bool{true, false} {
		for _, failing := range []bool{false, true} {
			if failing && !observed {
				continue
			}
			for _, m := range messages {
				store := &hookStore{}
				svc := NewService(store, TagAuthorizer{Store: store}, time.Now, slog.New(slog.DiscardHandler))
				want := m.want
				if observed {
					rec := &recorder{store: store}
					if failing {
						rec.fail = errors.New("observer failed")
					}
					svc.SetObserver(rec)
				} else {
					want = want[:1]
				}
				action, _ := ocpp.ActionOf(m.req)
				resp, err := svc.Handle(context.Background(), sess, m.req, Source{Action: action, ReceivedAt: received})
				if !slices.Equal(store.log, want) {
					t.Errorf("%s (observer %v, failing %v): stored and observed %q, want %q", action, observed, failing, store.log, want)
				}
				// A failing observer fails the message, which the station then sends again.
				var callErr *ocpp.Error
				switch {
				case failing && (err == nil || errors.As(err, &callErr)):
					t.Errorf("%s with a failing observer: error %v, want an internal error", action, err)
				case !failing && (err != nil || resp == nil):
					t.Errorf("%s: %v, %v", action, resp, err)
				}
			}
		}
	}
}

func (s *hookStore) AddMeterValues(ctx context.Context, values []MeterValue) error {
	s.log = append(s.log, "meter values")
	return nil
}

// meterRecorder is a MeterObserver that logs the values it is told of into the store's log.
type meterRecorder struct{ store *hookStore }

func (r *meterRecorder) MeterValuesStored(ctx context.Context, sess *Session, values []MeterValue) {
	for _, v := range values {
		r.store.log = append(r.store.log, "observed "+v.RawValue+" connector "+itoa(v.ConnectorID)+" transaction "+itoa(int(v.TransactionID)))
	}
}

func TestMeterObserver(t *testing.T) {
	received := time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC)
	sess := &Session{Station: Station{ID: 1, ChargePointID: "CP", Registration: Accepted}}
	ts := ocpp.DateTime{Time: received}
	messages := []struct {
		req  any
		want []string
	}{
		{&ocpp.MeterValuesRequest{ConnectorID: 2, TransactionID: ptr(5), MeterValue: []ocpp.MeterValue{{Timestamp: ts, SampledValue: []ocpp.SampledValue{{Value: "7"}}}}},
			[]string{"meter values", "observed 7 connector 2 transaction 5"}},
		// The transactionData gets the transaction the stop resolved to (the hookStore's has
		// connector 0) and its connector.
		{&ocpp.StopTransactionRequest{TransactionID: 3, MeterStop: 10, Timestamp: ts,
			TransactionData: []ocpp.TransactionData{{Timestamp: ts, SampledValue: []ocpp.TransactionSampledValue{{Value: "9"}}}}},
			[]string{"stop", "observed 9 connector 0 transaction 3"}},
		{&ocpp.StopTransactionRequest{TransactionID: 3, MeterStop: 10, Timestamp: ts}, []string{"stop"}},
	}
	for _, m := range messages {
		store := &hookStore{}
		svc := NewService(store, TagAuthorizer{Store: store}, time.Now, slog.New(slog.DiscardHandler))
		svc.SetMeterObserver(&meterRecorder{store: store})
		action, _ := ocpp.ActionOf(m.req)
		if _, err := svc.Handle(context.Background(), sess, m.req, Source{Action: action, ReceivedAt: received}); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if !slices.Equal(store.log, m.want) {
			t.Errorf("%s: stored and observed %q, want %q", action, store.log, m.want)
		}
	}
}
