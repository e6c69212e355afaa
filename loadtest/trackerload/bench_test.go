package trackerload

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The generator must out-run the tracker on a shared machine: building a
// request, picking a peer and reading an answer allocate nothing.

func benchWorkload(b *testing.B) *workload {
	cfg := Config{Torrents: 1000, Peers: 10000}.withDefaults()
	w, err := newWorkload(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func BenchmarkPickAndAppendURL(b *testing.B) {
	w := benchWorkload(b)
	c := &httpClient{announce: []byte("http://127.0.0.1:6969/announce?"), scrape: []byte("http://127.0.0.1:6969/scrape?"), numWant: 50, timeout: time.Second}
	r := rand.New(rand.NewPCG(1, 2))
	var q query
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		p, a := w.pick(r)
		w.apply(p, a, r, &q)
		buf = c.appendURL(buf[:0], &q)
		p.mu.Unlock()
	}
}

func BenchmarkParseAnnounceAnswer(b *testing.B) {
	body := []byte("d8:completei10e10:downloadedi3e10:incompletei20e8:intervali1800e12:min intervali900e5:peers300:" +
		string(make([]byte, 300)) + "e")
	var a answer
	b.ReportAllocs()
	for b.Loop() {
		a.reset()
		if err := parseAnnounceAnswer(body, &a); err != nil || a.peers != 50 {
			b.Fatal(err, a.peers)
		}
	}
}
