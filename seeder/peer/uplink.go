package peer

import "sync/atomic"

// Uplink counts the connections that use the origin's uplink now (Busy),
// over every torrent of a seeder: the upload rate limit and the link itself
// are the seeder's, so the offload policy of one torrent must not take the
// uplink for idle while another torrent's peers are being served. The zero
// value counts none.
type Uplink struct {
	busy atomic.Int64
}

// Idle reports whether no connection is busy.
func (u *Uplink) Idle() bool { return u.busy.Load() == 0 }

// Busy is the number of busy connections.
func (u *Uplink) Busy() int64 { return u.busy.Load() }
