// Package candidates keeps the dialler's bookkeeping for one torrent: the
// peer addresses trackers returned, which of them are being dialled, how
// often each failed and when it may be tried again.
//
// A List is pure logic: it is told about addresses from trackers, dial
// results and the time, and answers which addresses to dial now; the
// caller dials. It is not safe for concurrent use.
package candidates

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Config tunes a List.
type Config struct {
	// Attempts is how many dials an address gets before it is dropped
	// (a tracker naming it again gives it as many more).
	Attempts int
	// Retry is the wait after a failed dial, times the attempts so far.
	Retry time.Duration
	// Max bounds the addresses kept: while the seeder is at its
	// connection limit nothing is dialled, and trackers keep naming new
	// peers. Addresses past it are not kept.
	Max int
	// TTL is how long an address no tracker named again is kept; it is
	// dropped then, unless being dialled, so that a List full of stale
	// addresses makes room for fresh ones.
	TTL time.Duration
}

// Dial is an address to dial now, and which attempt this is (from 1).
type Dial struct {
	Addr    netip.AddrPort
	Attempt int
}

type candidate struct {
	attempts int       // dials started
	inFlight bool      // a dial is under way; it is never started twice
	next     time.Time // when it may be dialled
	seen     time.Time // when a tracker last named it
}

// List holds the candidates of one torrent.
type List struct {
	cfg Config
	m   map[netip.AddrPort]*candidate
}

// New returns an empty List.
func New(cfg Config) (*List, error) {
	if cfg.Attempts < 1 || cfg.Retry <= 0 || cfg.Max < 1 || cfg.TTL <= 0 {
		return nil, fmt.Errorf("candidates: %+v: need at least one attempt, a retry wait, room for one address and a TTL", cfg)
	}
	return &List{cfg: cfg, m: make(map[netip.AddrPort]*candidate)}, nil
}

// Add records addresses a tracker returned at now. A new one may be dialled
// at once; a known one is kept fresh and, unless a dial to it is under way
// (whose result counts), gets its attempts back, keeping its back-off.
// Addresses past Max are not kept.
func (l *List) Add(addrs []netip.AddrPort, now time.Time) {
	l.AddAfter(addrs, now, 0)
}

// AddAfter is Add, but a new address is first due wait after now: time
// for a peer that may dial us itself to do so (and be removed), as one
// that just found us usually does.
func (l *List) AddAfter(addrs []netip.AddrPort, now time.Time, wait time.Duration) {
	l.expire(now)
	for _, a := range addrs {
		if c, ok := l.m[a]; ok {
			c.seen = now
			if !c.inFlight {
				c.attempts = 0
			}
			continue
		}
		if len(l.m) >= l.cfg.Max {
			continue
		}
		l.m[a] = &candidate{next: now.Add(wait), seen: now}
	}
}

// Due returns up to n addresses to dial now, longest due first, and marks
// them as being dialled until Done.
func (l *List) Due(now time.Time, n int) []Dial {
	l.expire(now)
	if n <= 0 {
		return nil
	}
	var due []netip.AddrPort
	for a, c := range l.m {
		if !c.inFlight && !c.next.After(now) {
			due = append(due, a)
		}
	}
	slices.SortFunc(due, func(a, b netip.AddrPort) int {
		if r := l.m[a].next.Compare(l.m[b].next); r != 0 {
			return r
		}
		return a.Compare(b)
	})
	var out []Dial
	for _, a := range due[:min(n, len(due))] {
		c := l.m[a]
		c.attempts++
		c.inFlight = true
		out = append(out, Dial{Addr: a, Attempt: c.attempts})
	}
	return out
}

// Done ends the dial of a at now. An address still listed did not become
// a peer (Remove takes those out): it may be dialled again after its
// back-off, or is dropped once it has had its attempts.
func (l *List) Done(a netip.AddrPort, now time.Time) {
	c, ok := l.m[a]
	if !ok || !c.inFlight {
		return
	}
	c.inFlight = false
	if c.attempts >= l.cfg.Attempts {
		delete(l.m, a)
		return
	}
	c.next = now.Add(l.cfg.Retry * time.Duration(c.attempts))
}

// Remove forgets a, a connected peer's address: it needs no dial.
func (l *List) Remove(a netip.AddrPort) { delete(l.m, a) }

// Has reports whether a is kept, to be dialled now or later.
func (l *List) Has(a netip.AddrPort) bool {
	_, ok := l.m[a]
	return ok
}

// Len is the number of addresses kept.
func (l *List) Len() int { return len(l.m) }

// InFlight is the number of them being dialled.
func (l *List) InFlight() int {
	n := 0
	for _, c := range l.m {
		if c.inFlight {
			n++
		}
	}
	return n
}

// expire drops the addresses no tracker named for TTL, except those being
// dialled.
func (l *List) expire(now time.Time) {
	for a, c := range l.m {
		if !c.inFlight && now.Sub(c.seen) >= l.cfg.TTL {
			delete(l.m, a)
		}
	}
}
