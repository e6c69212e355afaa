package peer

import "time"

// InterestInterval is the least time between two changes of one peer's
// interest reaching the choker. Each change runs the choker under its
// lock, which every connection of the seeder shares (a peer that loses
// interest frees a slot, and filling it sorts every waiting peer), and nothing stops a peer from sending
// interested and not interested back to back, 5 bytes each. The changes
// are coalesced rather than ignored or punished: ignoring one could leave
// the choker believing a peer is not interested when it is, stalling it,
// and honest clients may well change their minds several times a second
// under offload, where each have we send can make a leecher interested
// again. A change after a quiet interval is applied at once, so an honest
// client waits for nothing; later ones wait for the interval to end, and
// only the latest state is applied then. A peer toggling without end
// costs the choker at most 1/InterestInterval runs a second.
const InterestInterval = 100 * time.Millisecond

// interestPacer decides when a peer's changes of interest reach the
// choker. It is pure logic, told the time; the connection carries its
// answers out.
type interestPacer struct {
	last      time.Time // when the choker was last told
	scheduled bool      // a flush is due at last+InterestInterval
}

// change records a change of interest at now. It answers apply to tell the
// choker now, or a wait after which to flush (tell the choker the latest
// state), or neither when a flush is scheduled already.
func (p *interestPacer) change(now time.Time) (apply bool, wait time.Duration) {
	if p.scheduled {
		return false, 0
	}
	if wait := p.last.Add(InterestInterval).Sub(now); wait > 0 {
		p.scheduled = true
		return false, wait
	}
	p.last = now
	return true, 0
}

// flushed records that the scheduled flush told the choker at now.
func (p *interestPacer) flushed(now time.Time) {
	p.scheduled = false
	p.last = now
}
