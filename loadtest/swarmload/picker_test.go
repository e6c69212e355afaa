package swarmload

import (
	"testing"

	"github.com/bitorigin/bitorigin/bitfield"
)

// peerWith returns what a picker knows of a peer that has pieces.
func peerWith(p *picker, pieces ...uint32) *peerPieces {
	pp := &peerPieces{}
	b := bitfield.New(p.numPieces)
	for _, i := range pieces {
		b.Set(i)
	}
	p.peerBitfield(pp, b)
	return pp
}

// testPicker picks among n pieces of 4 blocks of 16 KiB, the last one a
// block and a half.
func testPicker(n uint32, seed uint64) *picker {
	const piece = 64 << 10
	return newPicker(n, piece, int64(n-1)*piece+24<<10, 16<<10, seed)
}

func TestPickerAsksForTheRarestPieceFirst(t *testing.T) {
	p := testPicker(4, 1)
	peerWith(p, 0, 1, 2, 3)
	peerWith(p, 0, 1, 3)
	peerWith(p, 0, 3)
	all := peerWith(p, 0, 1, 2, 3)
	// Availability: piece 0 four peers, 1 three, 2 two, 3 four.
	var order []uint32
	for range 4 {
		got := p.pick(all, 1, 4, nil)
		if len(got) == 0 {
			t.Fatal("nothing picked")
		}
		order = append(order, got[0].index)
	}
	if order[0] != 2 || order[1] != 1 {
		t.Errorf("pieces picked in order %v, want 2 then 1 (the rarest), then 0 and 3", order)
	}
}

func TestPickerAsksOnlyForPiecesThePeerHas(t *testing.T) {
	p := testPicker(8, 1)
	// An origin under offload: have none, then one revealed piece.
	origin := &peerPieces{}
	p.peerBitfield(origin, nil)
	if got := p.pick(origin, 1, 64, nil); len(got) != 0 {
		t.Fatalf("picked %v from a peer that has nothing", got)
	}
	p.peerHave(origin, 5)
	got := p.pick(origin, 1, 64, nil)
	if len(got) != 4 {
		t.Fatalf("picked %v, want the 4 blocks of piece 5", got)
	}
	for _, r := range got {
		if r.index != 5 {
			t.Errorf("picked a block of piece %d, which the peer does not have", r.index)
		}
	}
}

func TestPickerNeverAsksTwoPeersForOneBlockAtOnce(t *testing.T) {
	p := testPicker(3, 7)
	a, b := peerWith(p, 0, 1, 2), peerWith(p, 0, 1, 2)
	asked := map[blockRef]int32{}
	for round := range 10 {
		for owner, pp := range map[int32]*peerPieces{1: a, 2: b} {
			for _, r := range p.pick(pp, owner, 3, nil) {
				if o, ok := asked[r]; ok {
					t.Fatalf("round %d: block %v asked of %d while asked of %d", round, r, owner, o)
				}
				asked[r] = owner
			}
		}
	}
	// 4 + 4 + 2 blocks in all, each asked once.
	if len(asked) != 10 {
		t.Errorf("%d blocks asked, want 10", len(asked))
	}
	// A rejected block is free again, for either peer.
	var r blockRef
	for r = range asked {
		break
	}
	owner := asked[r]
	if !p.release(r.index, r.begin, p.blockLength(r.index, r.begin), owner) {
		t.Fatal("release of an asked block failed")
	}
	other := 3 - owner
	if got := p.pick(map[int32]*peerPieces{1: a, 2: b}[other], other, 10, nil); len(got) != 1 || got[0] != r {
		t.Errorf("after the release the other peer gets %v, want [%v]", got, r)
	}
}

func TestPickerFinishesOpenPiecesBeforeOpeningMore(t *testing.T) {
	p := testPicker(10, 3)
	a, b := peerWith(p, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9), peerWith(p, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	first := p.pick(a, 1, 2, nil)
	second := p.pick(b, 2, 2, nil)
	if first[0].index != second[0].index {
		t.Errorf("the second peer opened piece %d while piece %d had free blocks", second[0].index, first[0].index)
	}
	if len(p.open) != 1 {
		t.Errorf("%d pieces open, want 1", len(p.open))
	}
}

func TestPickerVerifiesAndRetriesAFailedPiece(t *testing.T) {
	p := testPicker(2, 1)
	pp := peerWith(p, 0, 1)
	got := p.pick(pp, 1, 100, nil)
	if len(got) != 6 {
		t.Fatalf("picked %d blocks, want 4 + 2", len(got))
	}
	var done []*partial
	for _, r := range got {
		n := p.blockLength(r.index, r.begin)
		if buf := p.buffer(r.index, r.begin, n, 2); buf != nil {
			t.Fatalf("a block asked of 1 has a buffer for 2")
		}
		if len(p.buffer(r.index, r.begin, n, 1)) != int(n) {
			t.Fatalf("block %v: no buffer of %d bytes", r, n)
		}
		pc, ok := p.received(r.index, r.begin, n, 1)
		if !ok {
			t.Fatalf("block %v not taken", r)
		}
		if pc != nil {
			done = append(done, pc)
		}
	}
	if len(done) != 2 {
		t.Fatalf("%d pieces complete, want 2", len(done))
	}
	if p.failed(done[1]) != 1 {
		t.Error("first failure not counted")
	}
	p.recycle(p.verified(done[0]))
	if p.done() {
		t.Fatal("done with a failed piece")
	}
	again := p.pick(pp, 1, 100, nil)
	if len(again) != p.pieceSizeBlocks(done[1].index) || again[0].index != done[1].index {
		t.Errorf("after the failure picked %v, want every block of piece %d again", again, done[1].index)
	}
	for _, r := range again {
		if pc, _ := p.received(r.index, r.begin, p.blockLength(r.index, r.begin), 1); pc != nil {
			p.verified(pc)
		}
	}
	if !p.done() {
		t.Error("not done after verifying both pieces")
	}
	if got := p.pick(pp, 1, 100, nil); len(got) != 0 {
		t.Errorf("picked %v when done", got)
	}
}

func TestPickerReleasesEveryBlockOfAPeerThatLeft(t *testing.T) {
	p := testPicker(4, 1)
	a := peerWith(p, 0, 1, 2, 3)
	asked := p.pick(a, 1, 6, nil)
	if n := p.releaseAll(1); n != len(asked) {
		t.Errorf("released %d blocks, want %d", n, len(asked))
	}
	p.peerGone(a)
	for i, n := range p.avail {
		if n != 0 {
			t.Errorf("piece %d still counted available %d times after its only peer left", i, n)
		}
	}
	b := peerWith(p, 0, 1, 2, 3)
	if again := p.pick(b, 2, 6, nil); len(again) != len(asked) || again[0] != asked[0] {
		t.Errorf("the next peer is asked %v, want the released blocks %v first", again, asked)
	}
}

func TestPickerBreaksTiesAtRandomSoLeechersSpread(t *testing.T) {
	first := map[uint32]bool{}
	for seed := range uint64(20) {
		p := testPicker(16, seed)
		pp := peerWith(p, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
		first[p.pick(pp, 1, 1, nil)[0].index] = true
	}
	if len(first) < 5 {
		t.Errorf("20 leechers began with only %d distinct pieces of 16", len(first))
	}
}

func TestPickerSkipsADryPeerUntilItGainsAPiece(t *testing.T) {
	p := testPicker(4, 1)
	a := peerWith(p, 0)
	p.pick(a, 1, 100, nil) // all of piece 0
	if got := p.pick(a, 1, 100, nil); len(got) != 0 || !a.dry {
		t.Fatalf("picked %v, dry %v: want nothing and dry", got, a.dry)
	}
	p.peerHave(a, 3)
	if a.dry {
		t.Fatal("still dry after a have")
	}
	if got := p.pick(a, 1, 100, nil); len(got) != 2 || got[0].index != 3 {
		t.Errorf("picked %v, want the 2 blocks of piece 3", got)
	}
}

// pieceSizeBlocks is the number of blocks of piece i.
func (p *picker) pieceSizeBlocks(i uint32) int {
	return (p.pieceSize(i) + p.blockSize - 1) / p.blockSize
}
