package sha1x2

import (
	"crypto/sha1"
	"math/rand/v2"
	"testing"
)

func TestSum2MatchesCryptoSHA1(t *testing.T) {
	if !Accelerated() {
		t.Log("no SHA-NI here: testing the crypto/sha1 fallback")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	// Every length around the block and padding boundaries, then piece sizes.
	lengths := []int{16 << 10, 256 << 10, 1<<20 + 1}
	for n := range 300 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		a, b := make([]byte, n), make([]byte, n)
		fill(a)
		fill(b)
		sa, sb := Sum2(a, b)
		if sa != sha1.Sum(a) || sb != sha1.Sum(b) {
			t.Fatalf("length %d: Sum2 differs from crypto/sha1", n)
		}
	}
}

func TestSum2HandlesDifferentLengthsAndSharedInput(t *testing.T) {
	a := []byte("the quick brown fox")
	b := []byte("jumps")
	if sa, sb := Sum2(a, b); sa != sha1.Sum(a) || sb != sha1.Sum(b) {
		t.Fatal("different lengths hashed wrong")
	}
	if sa, sb := Sum2(a, a); sa != sha1.Sum(a) || sb != sha1.Sum(a) {
		t.Fatal("the same slice twice hashed wrong")
	}
}

func FuzzSum2(f *testing.F) {
	f.Add([]byte("abc"), []byte("xyz"))
	f.Add(make([]byte, 64), make([]byte, 64))
	f.Add(make([]byte, 56), make([]byte, 56))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if len(b) > len(a) {
			b = b[:len(a)]
		} else {
			b = append(b, a[len(b):]...) // same length, so the fast path runs
		}
		sa, sb := Sum2(a, b)
		if sa != sha1.Sum(a) || sb != sha1.Sum(b) {
			t.Fatalf("Sum2(%x, %x) differs from crypto/sha1", a, b)
		}
	})
}

// BenchmarkSum2 reports bytes hashed per second for two 1 MiB pieces at once;
// BenchmarkSHA1 is crypto/sha1 on one, for comparison.
func BenchmarkSum2(b *testing.B) {
	x, y := make([]byte, 1<<20), make([]byte, 1<<20)
	b.SetBytes(2 << 20)
	for b.Loop() {
		Sum2(x, y)
	}
}

func BenchmarkSHA1(b *testing.B) {
	x := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	for b.Loop() {
		sha1.Sum(x)
	}
}
