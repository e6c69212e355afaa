package bencode

import "testing"

// announceAnswer is the shape of a tracker's compact announce answer, the
// hottest thing this package writes and the load tester reads.
var announceAnswer = []byte("d8:completei10e10:downloadedi3e10:incompletei20e8:intervali1800e12:min intervali900e5:peers300:" +
	string(make([]byte, 300)) + "e")

func appendAnnounce(b, peers []byte) []byte {
	b = AppendDict(b)
	b = AppendInt(AppendString(b, "complete"), 10)
	b = AppendInt(AppendString(b, "downloaded"), 3)
	b = AppendInt(AppendString(b, "incomplete"), 20)
	b = AppendInt(AppendString(b, "interval"), 1800)
	b = AppendInt(AppendString(b, "min interval"), 900)
	b = AppendBytes(AppendString(b, "peers"), peers)
	return AppendEnd(b)
}

// readAnnounce reads what the load tester reads from an announce answer.
func readAnnounce(b []byte) (interval int64, peers int, err error) {
	d := NewDecoder(b)
	d.SortedKeys = true
	err = d.Dict(func(key []byte) error {
		switch string(key) {
		case "interval":
			n, err := d.Int()
			interval = n
			return err
		case "peers":
			if d.Kind() == List {
				return d.List(func() error { peers++; return nil })
			}
			s, err := d.Bytes()
			peers += len(s) / 6
			return err
		}
		return nil
	})
	return interval, peers, err
}

func TestAppendWithoutAllocating(t *testing.T) {
	buf := make([]byte, 0, 1024)
	peers := make([]byte, 300)
	if got := string(appendAnnounce(buf, peers)); got != string(announceAnswer) {
		t.Fatalf("wrote %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { appendAnnounce(buf[:0], peers) }); n != 0 {
		t.Fatalf("%v allocations per answer", n)
	}
}

func TestDecodeWithoutAllocating(t *testing.T) {
	if iv, peers, err := readAnnounce(announceAnswer); iv != 1800 || peers != 50 || err != nil {
		t.Fatalf("read interval %d, %d peers: %v", iv, peers, err)
	}
	if n := testing.AllocsPerRun(100, func() { readAnnounce(announceAnswer) }); n != 0 {
		t.Fatalf("%v allocations per answer", n)
	}
	nested := []byte("d1:ald1:bli1e2:xyd1:cleeeee5:peersld2:ip9:127.0.0.14:porti1eed2:ip3:::14:porti2eeee")
	if n := testing.AllocsPerRun(100, func() {
		if _, peers, err := readAnnounce(nested); peers != 2 || err != nil {
			t.Fatal(peers, err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations to skip and count nested values", n)
	}
}

func BenchmarkAppendAnnounce(b *testing.B) {
	buf := make([]byte, 0, 1024)
	peers := make([]byte, 300)
	b.ReportAllocs()
	b.SetBytes(int64(len(announceAnswer)))
	for b.Loop() {
		buf = appendAnnounce(buf[:0], peers)
	}
}

func BenchmarkReadAnnounce(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(announceAnswer)))
	for b.Loop() {
		if _, _, err := readAnnounce(announceAnswer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAnnounceJackpal is the same answer through the library the
// cold paths use, for comparison.
func BenchmarkReadAnnounceJackpal(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(announceAnswer)))
	for b.Loop() {
		if _, err := jackpalDecode(announceAnswer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSkip(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(announceAnswer)))
	for b.Loop() {
		d := NewDecoder(announceAnswer)
		d.SortedKeys = true
		if err := d.Skip(); err != nil {
			b.Fatal(err)
		}
	}
}
