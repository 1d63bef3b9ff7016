package loadtest

import (
	"bytes"
	"strconv"
	"time"
)

// The frames are written out with appends: encoding/json would cost the generator more CPU
// than the figures it is measuring can spare. frames_test.go checks each against package
// ocpp's strict validation.

const timestampLayout = "2006-01-02T15:04:05.000Z"

func appendCallStart(b []byte, id []byte, action string) []byte {
	b = append(b, `[2,"`...)
	b = append(b, id...)
	b = append(b, `","`...)
	b = append(b, action...)
	return append(b, `",`...)
}

func appendTimestamp(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, timestampLayout)
}

func bootNotification(b, id []byte, chargePointID string) []byte {
	b = appendCallStart(b, id, "BootNotification")
	b = append(b, `{"chargePointVendor":"Chargebook","chargePointModel":"LoadTest","chargePointSerialNumber":"`...)
	serial := chargePointID
	if len(serial) > 25 {
		serial = serial[len(serial)-25:]
	}
	b = append(b, serial...)
	return append(b, `","firmwareVersion":"load-1"}]`...)
}

func statusNotification(b, id []byte, connector int, status string, now time.Time) []byte {
	b = appendCallStart(b, id, "StatusNotification")
	b = append(b, `{"connectorId":`...)
	b = strconv.AppendInt(b, int64(connector), 10)
	b = append(b, `,"errorCode":"NoError","status":"`...)
	b = append(b, status...)
	b = append(b, `","timestamp":"`...)
	b = appendTimestamp(b, now)
	return append(b, `"}]`...)
}

func heartbeat(b, id []byte) []byte {
	b = appendCallStart(b, id, "Heartbeat")
	return append(b, `{}]`...)
}

func startTransaction(b, id []byte, idTag string, meterStart int64, now time.Time) []byte {
	b = appendCallStart(b, id, "StartTransaction")
	b = append(b, `{"connectorId":1,"idTag":"`...)
	b = append(b, idTag...)
	b = append(b, `","meterStart":`...)
	b = strconv.AppendInt(b, meterStart, 10)
	b = append(b, `,"timestamp":"`...)
	b = appendTimestamp(b, now)
	return append(b, `"}]`...)
}

func stopTransaction(b, id []byte, txID, meterStop int64, now time.Time) []byte {
	b = appendCallStart(b, id, "StopTransaction")
	b = append(b, `{"transactionId":`...)
	b = strconv.AppendInt(b, txID, 10)
	b = append(b, `,"meterStop":`...)
	b = strconv.AppendInt(b, meterStop, 10)
	b = append(b, `,"timestamp":"`...)
	b = appendTimestamp(b, now)
	return append(b, `","reason":"Local"}]`...)
}

// meterValues is the bulk of the load: four sampled values, as a charger configured with
// the register, power, current and state of charge sends them.
func meterValues(b, id []byte, txID, registerWh, powerW int64, soc int, now time.Time) []byte {
	b = appendCallStart(b, id, "MeterValues")
	b = append(b, `{"connectorId":1,"transactionId":`...)
	b = strconv.AppendInt(b, txID, 10)
	b = append(b, `,"meterValue":[{"timestamp":"`...)
	b = appendTimestamp(b, now)
	b = append(b, `","sampledValue":[{"value":"`...)
	b = strconv.AppendInt(b, registerWh, 10)
	b = append(b, `","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","location":"Outlet","unit":"Wh"},{"value":"`...)
	b = strconv.AppendInt(b, powerW, 10)
	b = append(b, `","context":"Sample.Periodic","measurand":"Power.Active.Import","location":"Outlet","unit":"W"},{"value":"`...)
	// Three phases at 230 V, to one decimal.
	deciAmps := powerW * 10 / 690
	b = strconv.AppendInt(b, deciAmps/10, 10)
	b = append(b, '.', byte('0'+deciAmps%10))
	b = append(b, `","context":"Sample.Periodic","measurand":"Current.Import","location":"Outlet","unit":"A"},{"value":"`...)
	b = strconv.AppendInt(b, int64(soc), 10)
	return append(b, `","context":"Sample.Periodic","measurand":"SoC","location":"EV","unit":"Percent"}]}]}]`...)
}

// callErrorNotSupported answers a CALL from the server, which the load stations do not
// implement.
func callErrorNotSupported(b, id []byte) []byte {
	b = append(b, `[4,"`...)
	b = append(b, id...)
	return append(b, `","NotSupported","load-test station",{}]`...)
}

// reply is a frame as the generator reads it: only its type, id and payload, found by
// position, because the server writes compact frames.
type reply struct {
	typ     byte // '2' CALL, '3' CALLRESULT, '4' CALLERROR, 0 unreadable
	id      []byte
	payload []byte // of a CALLRESULT; for a CALLERROR, everything after the id
}

func parseReply(b []byte) reply {
	b = bytes.TrimSpace(b)
	if len(b) < 6 || b[0] != '[' || b[len(b)-1] != ']' {
		return reply{}
	}
	b = bytes.TrimLeft(b[1:len(b)-1], " \t\r\n")
	if len(b) < 4 || b[0] < '2' || b[0] > '4' {
		return reply{}
	}
	r := reply{typ: b[0]}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) < 2 || b[0] != ',' {
		return reply{}
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) < 2 || b[0] != '"' {
		return reply{}
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return reply{}
	}
	r.id = b[1 : 1+end]
	b = bytes.TrimLeft(b[2+end:], " \t\r\n")
	if len(b) == 0 || b[0] != ',' {
		return reply{}
	}
	r.payload = bytes.TrimSpace(b[1:])
	return r
}

// intField finds "name":<integer> in a payload; good enough for the flat answers the
// generator needs to read (transactionId, interval).
func intField(payload []byte, name string) (int64, bool) {
	key := make([]byte, 0, len(name)+3)
	key = append(append(append(key, '"'), name...), `":`...)
	i := bytes.Index(payload, key)
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(payload[i+len(key):], " ")
	n := 0
	for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || n == 0 && rest[n] == '-') {
		n++
	}
	v, err := strconv.ParseInt(string(rest[:n]), 10, 64)
	return v, err == nil
}
