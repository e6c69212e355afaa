package seeder

import (
	"sync/atomic"

	"github.com/bitorigin/bitorigin/bitfield"
)

// pieceSet is a set of pieces that many goroutines read and a few change:
// testing a piece is one atomic load, so every request can afford it.
type pieceSet struct {
	words []atomic.Uint64
	n     uint32
	count atomic.Int64
}

func newPieceSet(n uint32) *pieceSet {
	return &pieceSet{words: make([]atomic.Uint64, (n+63)/64), n: n}
}

// has reports whether piece i is in the set; false for i out of range.
func (p *pieceSet) has(i uint32) bool {
	return i < p.n && p.words[i/64].Load()&(1<<(i%64)) != 0
}

// set adds or removes piece i and reports whether that changed the set.
func (p *pieceSet) set(i uint32, in bool) bool {
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

// len is the number of pieces in the set.
func (p *pieceSet) len() uint32 { return uint32(p.count.Load()) }

// bitfield is a copy of the set as a bitfield.
func (p *pieceSet) bitfield() *bitfield.Bitfield {
	b := bitfield.New(p.n)
	for i := range p.n {
		if p.has(i) {
			b.Set(i)
		}
	}
	return b
}
