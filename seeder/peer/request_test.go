package peer

import (
	"slices"
	"testing"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/pieces"
)

func TestCheckRequestRefusesEverythingOutsideTheData(t *testing.T) {
	// 3 pieces of 32 KiB, the last 1000 bytes long; piece 1 not verified.
	have := bitfield.New(3)
	have.Set(0)
	have.Set(2)
	tor := &Torrent{Loaded: have, PieceLen: 32 << 10, LastLen: 1000, Pieces: 3, Served: pieces.NewSet(3)}
	tor.Served.Set(0, true)
	tor.Served.Set(2, true)
	const max = 16 << 10
	cases := []struct {
		r    peerwire.Request
		want badRequest
	}{
		{peerwire.Request{Index: 0, Begin: 0, Length: max}, requestOK},
		{peerwire.Request{Index: 0, Begin: 16 << 10, Length: max}, requestOK},
		{peerwire.Request{Index: 2, Begin: 0, Length: 1000}, requestOK},
		{peerwire.Request{Index: 2, Begin: 999, Length: 1}, requestOK},
		{peerwire.Request{Index: 3, Begin: 0, Length: 1}, requestIndex},
		{peerwire.Request{Index: 0xffffffff, Begin: 0, Length: 1}, requestIndex},
		{peerwire.Request{Index: 0, Begin: 0, Length: max + 1}, requestLength},
		{peerwire.Request{Index: 0, Begin: 0, Length: 128 << 10}, requestLength},
		{peerwire.Request{Index: 0, Begin: 0, Length: 0}, requestEmpty},
		{peerwire.Request{Index: 0, Begin: 16<<10 + 1, Length: max}, requestRange},
		{peerwire.Request{Index: 0, Begin: 0xffffffff, Length: max}, requestRange},
		{peerwire.Request{Index: 0, Begin: 32 << 10, Length: 1}, requestRange},
		{peerwire.Request{Index: 2, Begin: 0, Length: 1001}, requestRange},
		{peerwire.Request{Index: 2, Begin: 1000, Length: 1}, requestRange},
		{peerwire.Request{Index: 1, Begin: 0, Length: max}, requestMissing},
	}
	for _, c := range cases {
		if got := tor.checkRequest(&c.r, max); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}

func TestRequestQueueKeepsOrderAndRemovesCancelled(t *testing.T) {
	var q requestQueue
	req := func(i uint32) peerwire.Request { return peerwire.Request{Index: i, Length: 1} }
	for i := range uint32(5) {
		q.push(req(i))
	}
	if r, _ := q.pop(); r != req(0) {
		t.Fatalf("pop %+v", r)
	}
	if !q.remove(req(2)) || q.remove(req(2)) || q.remove(req(9)) {
		t.Fatal("remove did not remove exactly once")
	}
	q.push(req(5))
	var got []uint32
	q.drain(func(r peerwire.Request) { got = append(got, r.Index) })
	if !slices.Equal(got, []uint32{1, 3, 4, 5}) || q.len() != 0 {
		t.Fatalf("drained %v, left %d", got, q.len())
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from an empty queue")
	}
}

func TestRequestQueueReusesItsArray(t *testing.T) {
	var q requestQueue
	for i := range 100 {
		q.push(peerwire.Request{Index: uint32(i)})
	}
	for range 100 {
		q.pop()
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range 50 {
			q.push(peerwire.Request{Index: uint32(i)})
		}
		for range 50 {
			q.pop()
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round of steady pushes and pops", allocs)
	}
}
