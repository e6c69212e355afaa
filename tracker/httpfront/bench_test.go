package httpfront

import (
	"fmt"
	"net"
	"net/url"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

// BenchmarkAnnounce measures a compact IPv4 announce into a swarm of 1,000
// peers in steady state: the peer is already known and re-announces, as
// nearly every announce a tracker sees does.
func BenchmarkAnnounce(b *testing.B) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	tr, err := tracker.New(tracker.Config{}, store, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(tr, Config{})
	if err != nil {
		b.Fatal(err)
	}
	h := hashN(1)
	const swarm = 1000
	reqs := make([]fasthttp.Request, swarm)
	addrs := make([]net.Addr, swarm)
	for n := range swarm {
		id := peerID(n)
		left := 0
		if n%4 != 0 {
			left = 1 << 20
		}
		reqs[n].SetRequestURI(fmt.Sprintf("/announce?info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=%d&compact=1&numwant=50&key=1a2b3c",
			url.QueryEscape(string(h[:])), url.QueryEscape(string(id[:])), 10000+n, left))
		addrs[n] = &net.TCPAddr{IP: net.IPv4(10, 1, byte(n>>8), byte(n)), Port: 40000}
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&reqs[0], addrs[0], nil)
	serve := func(n int) {
		// Init allocates; a server reuses its contexts, so reuse one here.
		reqs[n].CopyTo(&ctx.Request)
		ctx.SetRemoteAddr(addrs[n])
		ctx.Response.Reset()
		srv.Handle(&ctx)
	}
	for n := range swarm {
		serve(n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		serve(i % swarm)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("HTTP %d", ctx.Response.StatusCode())
		}
	}
}

// BenchmarkAnnounceParallel is BenchmarkAnnounce from all cores over 1,000
// torrents, showing how the sharded store scales.
func BenchmarkAnnounceParallel(b *testing.B) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	tr, err := tracker.New(tracker.Config{}, store, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(tr, Config{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 4096
	reqs := make([]fasthttp.Request, n)
	addrs := make([]net.Addr, n)
	for i := range n {
		h := hashN(i % 1000)
		id := peerID(i)
		reqs[i].SetRequestURI(fmt.Sprintf("/announce?info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=%d&compact=1",
			url.QueryEscape(string(h[:])), url.QueryEscape(string(id[:])), 10000+i, i%3))
		addrs[i] = &net.TCPAddr{IP: net.IPv4(10, 2, byte(i>>8), byte(i)), Port: 40000}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		ctx.Init(&reqs[0], addrs[0], nil)
		i := 0
		for pb.Next() {
			k := i % n
			reqs[k].CopyTo(&ctx.Request)
			ctx.SetRemoteAddr(addrs[k])
			ctx.Response.Reset()
			srv.Handle(&ctx)
			i += 7
		}
	})
}
