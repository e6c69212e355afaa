// Package announcer tells trackers about a torrent we seed and brings back
// the peers they know: one loop per torrent that announces `started`, then
// every `interval`, then `stopped`, walking the torrent's tracker tiers as
// BEP 12 describes and backing off when every tracker fails.
//
// The loop does not know how a tracker is reached: a Client per URL scheme
// does (HTTP and HTTPS now, BEP 15 UDP later).
package announcer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"time"
)

// Event is the announce's event parameter.
type Event int

// Announce events (BEP 3). A seed never sends completed: it started
// complete.
const (
	EventNone Event = iota
	EventStarted
	EventStopped
	EventCompleted
)

// String is the event as the announce's event parameter writes it; empty
// for EventNone.
func (e Event) String() string {
	switch e {
	case EventStarted:
		return "started"
	case EventStopped:
		return "stopped"
	case EventCompleted:
		return "completed"
	}
	return ""
}

// Request is one announce.
type Request struct {
	InfoHash [20]byte
	PeerID   [20]byte
	// Port is our listening port.
	Port uint16
	// IP, when valid, is the address trackers should hand out for us
	// instead of the one they see.
	IP netip.Addr
	// Uploaded, Downloaded and Left are byte counts since started (BEP 3).
	Uploaded, Downloaded, Left int64
	Event                      Event
	// NumWant is how many peers we would like.
	NumWant int
	// Key identifies us across IP changes.
	Key uint32
	// Family is the address family to announce over (BEP 7).
	Family Family
}

// Response is a tracker's answer.
type Response struct {
	// Interval is how long to wait before the next regular announce.
	Interval time.Duration
	// MinInterval, when set, is the shortest wait the tracker allows.
	MinInterval time.Duration
	Peers       []netip.AddrPort
	// Seeders and Leechers are the swarm's counts (complete, incomplete).
	Seeders, Leechers int
	// Warning is the tracker's warning message, if any.
	Warning string
}

// FailureError is a tracker's failure reason: it answered, and refused.
type FailureError struct {
	URL    string
	Reason string
}

// Error names the tracker and its reason.
func (e *FailureError) Error() string {
	return fmt.Sprintf("tracker %s: failure: %s", e.URL, e.Reason)
}

// Client announces to trackers of one kind.
type Client interface {
	Announce(ctx context.Context, trackerURL string, req *Request) (*Response, error)
}

// Stats reports the torrent's transfer counts for the next announce.
type Stats func() (uploaded, downloaded, left int64)

// Config sets up the announce loop of one torrent.
type Config struct {
	// Tiers are the torrent's trackers, BEP 12 tiers in order.
	Tiers [][]string
	// Clients maps URL schemes ("http", "https", "udp") to the Client that
	// speaks them. Trackers of another scheme are skipped.
	Clients map[string]Client

	InfoHash [20]byte
	PeerID   [20]byte
	Port     uint16
	IP       netip.Addr
	NumWant  int // DefaultNumWant when 0
	Key      uint32
	// Family restricts the announces to one address family, so that a
	// dual-stack seeder runs one loop per family and trackers learn both
	// its addresses (BEP 7); trackers given by a literal address of the
	// other family are left out. FamilyAny lets the system choose.
	Family Family

	// Stats gives the counts of each announce; nil means zeros and left=0.
	Stats Stats
	// Peers receives the peers of each successful announce, on the loop's
	// goroutine; it must not block for long.
	Peers func([]netip.AddrPort)
	// Answered, when set, is told the tracker of each successful
	// announce, on the loop's goroutine.
	Answered func(trackerURL string)

	// DefaultInterval is used when a tracker gives none; 30 minutes when 0.
	DefaultInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait after every tracker failed;
	// it doubles from MinBackoff (15 s when 0) up to MaxBackoff (30 minutes
	// when 0), with jitter.
	MinBackoff, MaxBackoff time.Duration
	// StopTimeout bounds the stopped announce at shutdown; 5 s when 0.
	StopTimeout time.Duration

	Logger *slog.Logger
}

// DefaultNumWant is how many peers an announce asks for by default.
const DefaultNumWant = 200

// Announcer runs the announce loop of one torrent.
type Announcer struct {
	cfg   Config
	tiers [][]string
	log   *slog.Logger
	// last is the tracker that last answered, which gets the stopped
	// announce.
	last string
	// cutOff is a tracker whose announce was in flight when the loop was
	// cancelled: it may have counted us, so it hears stopped too.
	cutOff string
}

// New checks cfg and returns an Announcer. The trackers of each tier are
// shuffled, as BEP 12 asks, so that load spreads over a tier.
func New(cfg Config) (*Announcer, error) {
	if cfg.NumWant == 0 {
		cfg.NumWant = DefaultNumWant
	}
	if cfg.DefaultInterval <= 0 {
		cfg.DefaultInterval = 30 * time.Minute
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 15 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Minute
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Announcer{cfg: cfg, log: cfg.Logger}
	for _, tier := range cfg.Tiers {
		var urls []string
		for _, u := range tier {
			pu, err := url.Parse(u)
			if err != nil {
				return nil, fmt.Errorf("announcer: tracker %q: %w", u, err)
			}
			if _, ok := cfg.Clients[pu.Scheme]; !ok {
				a.log.Warn("tracker skipped: scheme not supported", "tracker", u)
				continue
			}
			if !usable(pu, cfg.Family) {
				continue
			}
			urls = append(urls, u)
		}
		rand.Shuffle(len(urls), func(i, j int) { urls[i], urls[j] = urls[j], urls[i] })
		if len(urls) > 0 {
			a.tiers = append(a.tiers, urls)
		}
	}
	if len(a.tiers) == 0 {
		if cfg.Family != FamilyAny {
			return nil, fmt.Errorf("announcer: no tracker with a supported scheme reachable over %s: %w", cfg.Family, ErrNoRoute)
		}
		return nil, errors.New("announcer: no tracker with a supported scheme")
	}
	return a, nil
}

// Run announces until ctx is done, then sends the stopped announce (within
// StopTimeout) and returns.
func (a *Announcer) Run(ctx context.Context) {
	event := EventStarted
	failures := 0
	for {
		resp, err := a.announce(ctx, event)
		if err == nil {
			// An answer that arrived as we were cancelled still counts:
			// the tracker knows us now and must hear stopped.
			event = EventNone
		}
		if ctx.Err() != nil {
			a.stop(event)
			return
		}
		var wait time.Duration
		switch {
		case err != nil && onlyNoRoute(err):
			// Not a failure: this family does not reach the trackers
			// (no IPv6 here, say). Look again at the usual interval.
			wait = a.cfg.DefaultInterval
			a.log.Debug("no tracker reachable in this address family", "retry_in", wait)
		case err != nil:
			wait = a.backoff(failures)
			failures++
			a.log.Warn("announce failed on every tracker", "err", err, "retry_in", wait.Round(time.Second))
		default:
			failures = 0
			wait = resp.Interval
			if wait <= 0 {
				wait = a.cfg.DefaultInterval
			}
			wait = max(wait, resp.MinInterval)
			if a.cfg.Peers != nil && len(resp.Peers) > 0 {
				a.cfg.Peers(resp.Peers)
			}
			if a.cfg.Answered != nil {
				a.cfg.Answered(a.last)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			a.stop(event)
			return
		case <-t.C:
		}
	}
}

// backoff is the wait after the n-th failure in a row (from 0): doubling
// from MinBackoff, capped at MaxBackoff, with up to 25% jitter either way.
func (a *Announcer) backoff(n int) time.Duration {
	d := a.cfg.MinBackoff
	for range min(n, 30) {
		d *= 2
		if d >= a.cfg.MaxBackoff {
			d = a.cfg.MaxBackoff
			break
		}
	}
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

// stop sends the stopped announce to every tracker that may count us: the
// one that last answered, unless started never got through, and one whose
// announce the shutdown cut off (it may have been processed).
func (a *Announcer) stop(pending Event) {
	var targets []string
	if pending != EventStarted && a.last != "" {
		targets = append(targets, a.last)
	}
	if a.cutOff != "" && a.cutOff != a.last {
		targets = append(targets, a.cutOff)
	}
	if len(targets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.StopTimeout)
	defer cancel()
	req := a.request(EventStopped)
	for _, u := range targets {
		if _, err := a.client(u).Announce(ctx, u, req); err != nil {
			a.log.Warn("stopped announce failed", "tracker", u, "err", err)
			continue
		}
		a.log.Debug("announced stopped", "tracker", u)
	}
}

// announce tries the tiers in order and, within a tier, its trackers in
// order, until one answers. The one that answers moves to the front of its
// tier (BEP 12).
func (a *Announcer) announce(ctx context.Context, event Event) (*Response, error) {
	req := a.request(event)
	var errs []error
	for _, tier := range a.tiers {
		for i, u := range tier {
			resp, err := a.client(u).Announce(ctx, u, req)
			if err != nil && ctx.Err() != nil {
				a.cutOff = u
				return nil, ctx.Err()
			}
			if err != nil {
				a.log.Debug("announce failed", "tracker", u, "event", event.String(), "err", err)
				errs = append(errs, err)
				continue
			}
			copy(tier[1:i+1], tier[:i])
			tier[0] = u
			a.last = u
			if resp.Warning != "" {
				a.log.Warn("tracker warning", "tracker", u, "warning", resp.Warning)
			}
			a.log.Debug("announced", "tracker", u, "event", event.String(), "peers", len(resp.Peers),
				"seeders", resp.Seeders, "leechers", resp.Leechers, "interval", resp.Interval)
			return resp, nil
		}
	}
	return nil, errors.Join(errs...)
}

func (a *Announcer) client(u string) Client {
	pu, _ := url.Parse(u) // parsed in New
	return a.cfg.Clients[pu.Scheme]
}

func (a *Announcer) request(event Event) *Request {
	req := &Request{
		InfoHash: a.cfg.InfoHash,
		PeerID:   a.cfg.PeerID,
		Port:     a.cfg.Port,
		IP:       a.cfg.IP,
		Event:    event,
		NumWant:  a.cfg.NumWant,
		Key:      a.cfg.Key,
		Family:   a.cfg.Family,
	}
	if event == EventStopped {
		req.NumWant = 0
	}
	if a.cfg.Stats != nil {
		req.Uploaded, req.Downloaded, req.Left = a.cfg.Stats()
	}
	return req
}

// onlyNoRoute reports whether every error joined in err is ErrNoRoute.
func onlyNoRoute(err error) bool {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return errors.Is(err, ErrNoRoute)
	}
	for _, e := range j.Unwrap() {
		if !errors.Is(e, ErrNoRoute) {
			return false
		}
	}
	return true
}
