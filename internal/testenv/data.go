package testenv

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// WriteData writes size pseudo-random bytes (from seed) to path, making
// its folder, and returns them: the content of a test torrent, small
// enough to compare in memory (WriteRandomFile streams large ones).
func WriteData(t testing.TB, path string, size int, seed uint64) []byte {
	t.Helper()
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}
