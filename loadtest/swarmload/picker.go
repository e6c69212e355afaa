package swarmload

import (
	"math/rand/v2"

	"github.com/bitorigin/bitorigin/bitfield"
)

// picker decides which blocks a trading leecher asks of which peer, and
// holds the pieces it is assembling. Pieces are picked rarest first among
// those the peer has (ties broken at random), and the free blocks of
// pieces already begun come before a new piece, so few pieces are open at
// once. A block is asked of one peer at a time: no endgame duplicates.
//
// It is pure bookkeeping, told about peers by the caller, which holds its
// own lock around every call. Owners are the caller's connection numbers,
// positive.
type picker struct {
	numPieces   uint32
	pieceLength int64
	total       int64
	blockSize   int
	have        *bitfield.Bitfield
	count       uint32 // pieces verified
	// avail counts, per piece, the connected peers known to have it.
	avail []int32
	// open are the pieces being assembled, oldest first.
	open []*partial
	free [][]byte
	rng  *rand.Rand
}

// partial is a piece being assembled.
type partial struct {
	index uint32
	buf   []byte
	// owner is, per block, blockFree, blockReceived or the owner the
	// block is asked of.
	owner   []int32
	missing int // blocks not received
	fails   int // hash check failures
}

// Block states of partial.owner besides an owner.
const (
	blockFree     = 0
	blockReceived = -1
)

// peerPieces is what a picker knows of one peer's pieces.
type peerPieces struct {
	// has is nil until the peer says what it has.
	has *bitfield.Bitfield
	// dry is set when the peer had no piece worth opening; it clears
	// when the peer gains a piece.
	dry bool
}

func newPicker(numPieces uint32, pieceLength, total int64, blockSize int, seed uint64) *picker {
	return &picker{
		numPieces:   numPieces,
		pieceLength: pieceLength,
		total:       total,
		blockSize:   blockSize,
		have:        bitfield.New(numPieces),
		avail:       make([]int32, numPieces),
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

func (p *picker) pieceSize(i uint32) int {
	return int(min(p.pieceLength, p.total-int64(i)*p.pieceLength))
}

// done reports whether every piece is verified.
func (p *picker) done() bool { return p.count == p.numPieces }

// peerBitfield records a peer's first word on its pieces: a bitfield, or
// nil for have none. Later ones are ignored.
func (p *picker) peerBitfield(pp *peerPieces, has *bitfield.Bitfield) {
	if pp.has != nil {
		return
	}
	if has == nil {
		has = bitfield.New(p.numPieces)
	}
	pp.has = has
	for i := range p.numPieces {
		if has.Has(i) {
			p.avail[i]++
		}
	}
}

// peerHaveAll records a peer that has every piece (BEP 6).
func (p *picker) peerHaveAll(pp *peerPieces) {
	b := bitfield.New(p.numPieces)
	b.SetAll()
	p.peerBitfield(pp, b)
}

// peerHave records a piece a peer gained.
func (p *picker) peerHave(pp *peerPieces, i uint32) {
	if pp.has == nil {
		p.peerBitfield(pp, nil)
	}
	if pp.has.Has(i) {
		return
	}
	pp.has.Set(i)
	p.avail[i]++
	pp.dry = false
}

// peerGone forgets a peer's pieces.
func (p *picker) peerGone(pp *peerPieces) {
	if pp.has == nil {
		return
	}
	for i := range p.numPieces {
		if pp.has.Has(i) {
			p.avail[i]--
		}
	}
	pp.has = nil
}

// pick appends to out up to n blocks to ask of the peer, marking them
// asked of owner: first the free blocks of open pieces it has, then blocks
// of the rarest piece it has that is not open yet.
func (p *picker) pick(pp *peerPieces, owner int32, n int, out []blockRef) []blockRef {
	if pp.has == nil || n <= 0 {
		return out
	}
	for _, pc := range p.open {
		if n == 0 {
			return out
		}
		if pp.has.Has(pc.index) {
			out, n = p.take(pc, owner, n, out)
		}
	}
	for n > 0 && !pp.dry {
		i, ok := p.rarest(pp.has)
		if !ok {
			pp.dry = true
			break
		}
		out, n = p.take(p.openPiece(i), owner, n, out)
	}
	return out
}

// take marks up to n free blocks of pc asked of owner and appends them.
func (p *picker) take(pc *partial, owner int32, n int, out []blockRef) ([]blockRef, int) {
	for b, o := range pc.owner {
		if n == 0 {
			break
		}
		if o != blockFree {
			continue
		}
		pc.owner[b] = owner
		out = append(out, blockRef{pc.index, uint32(b * p.blockSize)})
		n--
	}
	return out, n
}

// rarest returns the piece the fewest peers have among those in has that
// are neither verified nor open, at random among equals.
func (p *picker) rarest(has *bitfield.Bitfield) (uint32, bool) {
	best, ties := uint32(0), 0
	for i := range p.numPieces {
		if !has.Has(i) || p.have.Has(i) || p.find(i) != nil {
			continue
		}
		switch {
		case ties == 0 || p.avail[i] < p.avail[best]:
			best, ties = i, 1
		case p.avail[i] == p.avail[best]:
			ties++
			if p.rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best, ties > 0
}

// openPiece starts assembling piece i.
func (p *picker) openPiece(i uint32) *partial {
	size := p.pieceSize(i)
	var buf []byte
	if n := len(p.free); n > 0 && cap(p.free[n-1]) >= size {
		buf, p.free = p.free[n-1][:size], p.free[:n-1]
	} else {
		buf = make([]byte, size)
	}
	blocks := (size + p.blockSize - 1) / p.blockSize
	pc := &partial{index: i, buf: buf, owner: make([]int32, blocks), missing: blocks}
	p.open = append(p.open, pc)
	return pc
}

// find returns the open piece i, or nil. Few pieces are open at once.
func (p *picker) find(i uint32) *partial {
	for _, pc := range p.open {
		if pc.index == i {
			return pc
		}
	}
	return nil
}

// blockLength is the length of the block of piece i at begin.
func (p *picker) blockLength(i, begin uint32) uint32 {
	return uint32(min(p.blockSize, p.pieceSize(i)-int(begin)))
}

// owned returns the open piece and block number of a block asked of owner
// that is length bytes long, or nil.
func (p *picker) owned(index, begin, length uint32, owner int32) (*partial, int) {
	pc := p.find(index)
	if pc == nil || begin%uint32(p.blockSize) != 0 {
		return nil, 0
	}
	b := int(begin) / p.blockSize
	if b >= len(pc.owner) || pc.owner[b] != owner || length != p.blockLength(index, begin) {
		return nil, 0
	}
	return pc, b
}

// buffer returns where a block asked of owner goes, or nil when it was
// not asked of owner (any more).
func (p *picker) buffer(index, begin, length uint32, owner int32) []byte {
	pc, _ := p.owned(index, begin, length, owner)
	if pc == nil {
		return nil
	}
	return pc.buf[begin : begin+length]
}

// received records a block owner sent, already in its buffer. It reports
// whether the block was asked of owner, and returns the piece when that
// was its last missing block: the caller checks its hash and calls
// verified or failed.
func (p *picker) received(index, begin, length uint32, owner int32) (complete *partial, ok bool) {
	pc, b := p.owned(index, begin, length, owner)
	if pc == nil {
		return nil, false
	}
	pc.owner[b] = blockReceived
	pc.missing--
	if pc.missing == 0 {
		return pc, true
	}
	return nil, true
}

// release frees a block asked of owner, so that it can be asked of
// another peer (a reject). It reports whether the block was owner's.
func (p *picker) release(index, begin, length uint32, owner int32) bool {
	pc, b := p.owned(index, begin, length, owner)
	if pc == nil {
		return false
	}
	pc.owner[b] = blockFree
	return true
}

// releaseAll frees every block asked of owner (it choked us or left) and
// returns how many.
func (p *picker) releaseAll(owner int32) int {
	n := 0
	for _, pc := range p.open {
		for b, o := range pc.owner {
			if o == owner {
				pc.owner[b] = blockFree
				n++
			}
		}
	}
	return n
}

// verified records a piece that passed its hash check and returns its
// buffer, which the picker no longer uses.
func (p *picker) verified(pc *partial) []byte {
	p.have.Set(pc.index)
	p.count++
	for k, o := range p.open {
		if o == pc {
			p.open = append(p.open[:k], p.open[k+1:]...)
			break
		}
	}
	return pc.buf
}

// failed records a piece that failed its hash check: every block is asked
// again. It returns how often the piece failed.
func (p *picker) failed(pc *partial) int {
	pc.fails++
	clear(pc.owner)
	pc.missing = len(pc.owner)
	return pc.fails
}

// recycle takes back a piece buffer for the next piece opened.
func (p *picker) recycle(buf []byte) { p.free = append(p.free, buf) }
