// Package pieces holds the set of pieces a torrent serves now: many
// goroutines test it on every request, a few change it as files change
// on disk and pieces are verified again.
package pieces

import (
	"sync/atomic"

	"github.com/bitorigin/bitorigin/bitfield"
)

// Set is a set of pieces that many goroutines read and a few change:
// testing a piece is one atomic load, so every request can afford it.
type Set struct {
	words []atomic.Uint64
	n     uint32
	count atomic.Int64
}

// NewSet returns an empty set of n pieces.
func NewSet(n uint32) *Set {
	return &Set{words: make([]atomic.Uint64, (n+63)/64), n: n}
}

// Has reports whether piece i is in the set; false for i out of range.
func (p *Set) Has(i uint32) bool {
	return i < p.n && p.words[i/64].Load()&(1<<(i%64)) != 0
}

// Set adds or removes piece i and reports whether that changed the set.
func (p *Set) Set(i uint32, in bool) bool {
	w, bit := &p.words[i/64], uint64(1)<<(i%64)
	var old uint64
	if in {
		old = w.Or(bit)
	} else {
		old = w.And(^bit)
	}
	if (old&bit != 0) == in {
		return false
	}
	if in {
		p.count.Add(1)
	} else {
		p.count.Add(-1)
	}
	return true
}

// Len is the number of pieces in the set.
func (p *Set) Len() uint32 { return uint32(p.count.Load()) }

// Bitfield is a copy of the set as a bitfield.
func (p *Set) Bitfield() *bitfield.Bitfield {
	b := bitfield.New(p.n)
	for i := range p.n {
		if p.Has(i) {
			b.Set(i)
		}
	}
	return b
}
