package simulator

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargebook/chargebook/internal/ocpp"
	"github.com/chargebook/chargebook/internal/ocpp/rpc"
)

// StationConfig describes one simulated station. Zero fields take the defaults given.
type StationConfig struct {
	// URL is the account's OCPP URL; the station's id is appended to it, after a '/' if
	// it does not end in one.
	URL string
	ID  string // the charge point id; required
	// Header is sent with the websocket handshake (basic auth, for instance).
	Header http.Header

	Connectors int // default 1
	// SampleInterval is the initial MeterValueSampleInterval: how often a charging connector
	// sends MeterValues. Default 30s; it may be below a second to speed tests up, although
	// the configuration key, in whole seconds, cannot say so.
	SampleInterval time.Duration
	// AlignedInterval is the initial ClockAlignedDataInterval; zero sends no clock-aligned
	// data.
	AlignedInterval time.Duration
	PowerW          float64 // charging power, default 11,000 W
	// Steady keeps the power at PowerW exactly; by default it varies by up to 3% from one
	// sample to the next, as real meters do.
	Steady  bool
	Session time.Duration // length of a charging session, default 20m, varied by ±10%
	Idle    time.Duration // time between sessions, default 2m, varied by ±10%
	// IdTags are the tags the station's drivers present, picked at random; default one tag,
	// TAG-<id> (its last 20 characters).
	IdTags []string
	// StartRegisterWh is the energy register of every connector when the station is made;
	// zero draws one between 100 kWh and 5 MWh, like a charger that has been in service.
	StartRegisterWh int64

	Vendor, Model string // BootNotification; default "Chargebook", "Simulator"

	// ReconnectMin and ReconnectMax bound the backoff between connection attempts (each wait
	// drawn between half and all of the current step, which doubles after every failure).
	// Defaults 1s and 60s.
	ReconnectMin, ReconnectMax time.Duration
	DialTimeout                time.Duration // default 10s
	// BootRetry is the wait before the next BootNotification when the central system gives
	// no usable interval. Default 60s.
	BootRetry time.Duration

	RPC    rpc.Options
	Clock  Clock        // default RealClock()
	Logger *slog.Logger // default: discard
	Seed   uint64       // random source; zero picks one
}

func (c StationConfig) withDefaults() StationConfig {
	if c.Connectors <= 0 {
		c.Connectors = 1
	}
	if c.SampleInterval <= 0 {
		c.SampleInterval = 30 * time.Second
	}
	if c.PowerW <= 0 {
		c.PowerW = 11_000
	}
	if c.Session <= 0 {
		c.Session = 20 * time.Minute
	}
	if c.Idle <= 0 {
		c.Idle = 2 * time.Minute
	}
	if len(c.IdTags) == 0 {
		tag := "TAG-" + strings.Map(func(r rune) rune {
			if r < 0x21 || r > 0x7e {
				return -1
			}
			return r
		}, c.ID)
		if len(tag) > 20 {
			tag = tag[len(tag)-20:]
		}
		c.IdTags = []string{tag}
	}
	if c.Vendor == "" {
		c.Vendor = "Chargebook"
	}
	if c.Model == "" {
		c.Model = "Simulator"
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = time.Second
	}
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = max(60*time.Second, c.ReconnectMin)
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.BootRetry <= 0 {
		c.BootRetry = 60 * time.Second
	}
	if c.Clock == nil {
		c.Clock = RealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RPC.Logger == nil {
		c.RPC.Logger = c.Logger
	}
	return c
}

func (c StationConfig) stationURL() string {
	if strings.HasSuffix(c.URL, "/") {
		return c.URL + pathEscape(c.ID)
	}
	return c.URL + "/" + pathEscape(c.ID)
}

// pathEscape escapes what may not stand in a path segment; ids are usually plain.
func pathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// The configuration keys of the simulated charger (OCPP 1.6 section 9.1, Core and
// RemoteTrigger profiles).
type keyKind int

const (
	kindText keyKind = iota
	kindBool
	kindInt
	kindSeconds    // an int of seconds the station acts on, kept as a time.Duration
	kindMeasurands // a comma-separated list of measurands the meter can sample
)

type keyDef struct {
	name     string
	kind     keyKind
	readonly bool
	value    string // initial value of the keys kept as strings
}

// maxMeasurands is the *MaxLength of every measurand list.
const maxMeasurands = 5

const (
	keySampleInterval  = "MeterValueSampleInterval"
	keyAlignedInterval = "ClockAlignedDataInterval"
	keyHeartbeat       = "HeartbeatInterval"
	keySampledData     = "MeterValuesSampledData"
	keyAlignedData     = "MeterValuesAlignedData"
	keyStopSampled     = "StopTxnSampledData"
	keyStopAligned     = "StopTxnAlignedData"
	keyAuthorizeRemote = "AuthorizeRemoteTxRequests"
	keyAttempts        = "TransactionMessageAttempts"
	keyRetryInterval   = "TransactionMessageRetryInterval"
	keyConnectors      = "NumberOfConnectors"
	keyPingInterval    = "WebSocketPingInterval"
	keyStopOnInvalidID = "StopTransactionOnInvalidId"
)

var keyDefs = []keyDef{
	{"AllowOfflineTxForUnknownId", kindBool, false, "false"},
	{"AuthorizationCacheEnabled", kindBool, false, "true"},
	{keyAuthorizeRemote, kindBool, false, "false"},
	{keyAlignedInterval, kindSeconds, false, ""},
	{"ConnectionTimeOut", kindInt, false, "60"},
	{"ConnectorPhaseRotation", kindText, false, "0.RST"},
	{"GetConfigurationMaxKeys", kindInt, true, "50"},
	{keyHeartbeat, kindSeconds, false, ""},
	{"LocalAuthorizeOffline", kindBool, false, "true"},
	{"LocalPreAuthorize", kindBool, false, "false"},
	{keyAlignedData, kindMeasurands, false, "Energy.Active.Import.Register"},
	{"MeterValuesAlignedDataMaxLength", kindInt, true, strconv.Itoa(maxMeasurands)},
	{keySampledData, kindMeasurands, false, "Energy.Active.Import.Register,Power.Active.Import,SoC"},
	{"MeterValuesSampledDataMaxLength", kindInt, true, strconv.Itoa(maxMeasurands)},
	{keySampleInterval, kindSeconds, false, ""},
	{keyConnectors, kindInt, true, ""},
	{"ResetRetries", kindInt, false, "3"},
	{"StopTransactionOnEVSideDisconnect", kindBool, false, "true"},
	{keyStopOnInvalidID, kindBool, false, "true"},
	{keyStopAligned, kindMeasurands, false, "Energy.Active.Import.Register"},
	{"StopTxnAlignedDataMaxLength", kindInt, true, strconv.Itoa(maxMeasurands)},
	{keyStopSampled, kindMeasurands, false, "Energy.Active.Import.Register"},
	{"StopTxnSampledDataMaxLength", kindInt, true, strconv.Itoa(maxMeasurands)},
	{"SupportedFeatureProfiles", kindText, true, "Core,RemoteTrigger"},
	{keyAttempts, kindInt, false, "3"},
	{keyRetryInterval, kindInt, false, "60"},
	{"UnlockConnectorOnEVSideDisconnect", kindBool, false, "true"},
	{keyPingInterval, kindInt, false, ""},
}

func lookupKey(name string) (keyDef, bool) {
	i := slices.IndexFunc(keyDefs, func(d keyDef) bool { return d.name == name })
	if i < 0 {
		return keyDef{}, false
	}
	return keyDefs[i], true
}

// settings is a station's configuration. The intervals it acts on are durations, so that a
// test can run faster than the one-second steps of the keys.
type settings struct {
	sampleInterval, alignedInterval, heartbeat time.Duration
	values                                     map[string]string // every other key
}

func newSettings(cfg StationConfig) settings {
	s := settings{
		sampleInterval:  cfg.SampleInterval,
		alignedInterval: cfg.AlignedInterval,
		heartbeat:       5 * time.Minute, // until the central system says otherwise
		values:          make(map[string]string, len(keyDefs)),
	}
	for _, d := range keyDefs {
		if d.kind != kindSeconds {
			s.values[d.name] = d.value
		}
	}
	s.values[keyConnectors] = strconv.Itoa(cfg.Connectors)
	ping := cfg.RPC.PingInterval
	if ping == 0 {
		ping = 30 * time.Second // rpc's default
	}
	s.values[keyPingInterval] = strconv.Itoa(max(0, int(ping/time.Second)))
	return s
}

// get returns the value of a key as GetConfiguration shows it.
func (s *settings) get(name string) string {
	switch name {
	case keySampleInterval:
		return wholeSeconds(s.sampleInterval)
	case keyAlignedInterval:
		return wholeSeconds(s.alignedInterval)
	case keyHeartbeat:
		return wholeSeconds(s.heartbeat)
	}
	return s.values[name]
}

// wholeSeconds rounds up, so that a sub-second test interval does not read as 0 (off).
func wholeSeconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// set applies a ChangeConfiguration.
func (s *settings) set(name, value string) ocpp.ConfigurationStatus {
	d, ok := lookupKey(name)
	if !ok {
		return ocpp.ConfigurationStatusNotSupported
	}
	if d.readonly {
		return ocpp.ConfigurationStatusRejected
	}
	switch d.kind {
	case kindBool:
		switch strings.ToLower(value) {
		case "true", "false":
			value = strings.ToLower(value)
		default:
			return ocpp.ConfigurationStatusRejected
		}
	case kindInt, kindSeconds:
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 1<<30 {
			return ocpp.ConfigurationStatusRejected
		}
		if name == keyAttempts && n == 0 {
			return ocpp.ConfigurationStatusRejected
		}
		if d.kind == kindSeconds {
			dur := time.Duration(n) * time.Second
			switch name {
			case keySampleInterval:
				s.sampleInterval = dur
			case keyAlignedInterval:
				s.alignedInterval = dur
			case keyHeartbeat:
				s.heartbeat = dur
			}
			return ocpp.ConfigurationStatusAccepted
		}
		value = strconv.Itoa(n)
	case kindMeasurands:
		ms, ok := parseMeasurands(value)
		if !ok {
			return ocpp.ConfigurationStatusRejected
		}
		value = joinMeasurands(ms)
	}
	s.values[name] = value
	return ocpp.ConfigurationStatusAccepted
}

func (s *settings) measurands(name string) []ocpp.Measurand {
	ms, _ := parseMeasurands(s.values[name])
	return ms
}

func (s *settings) int(name string) int {
	n, _ := strconv.Atoi(s.values[name])
	return n
}

func (s *settings) bool(name string) bool { return s.values[name] == "true" }

func parseMeasurands(v string) ([]ocpp.Measurand, bool) {
	var ms []ocpp.Measurand
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		m := ocpp.Measurand(f)
		if !supportedMeasurands[m] || slices.Contains(ms, m) {
			return nil, false
		}
		ms = append(ms, m)
	}
	return ms, len(ms) <= maxMeasurands
}

func joinMeasurands(ms []ocpp.Measurand) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = string(m)
	}
	return strings.Join(parts, ",")
}
