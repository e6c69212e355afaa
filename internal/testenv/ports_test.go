package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestFreePortIsOutsideTheEphemeralRangeAndClaimedUntilTheTestEnds: no
// bind to port 0 or outgoing connection can take the port, and no other
// test (another open of its lock file) is given it while the test runs.
func TestFreePortIsOutsideTheEphemeralRangeAndClaimedUntilTheTestEnds(t *testing.T) {
	lo, hi := portRange()
	var p int
	t.Run("claim", func(t *testing.T) {
		p = FreePort(t)
		if p < lo || p > hi {
			t.Fatalf("port %d outside %d-%d", p, lo, hi)
		}
		if q := FreePort(t); q == p {
			t.Fatalf("port %d handed out twice", p)
		}
		if lockable(t, p) {
			t.Fatalf("port %d not claimed while the test runs", p)
		}
	})
	if !lockable(t, p) {
		t.Fatalf("port %d still claimed after the test", p)
	}
}

func lockable(t *testing.T, p int) bool {
	f, err := os.Open(filepath.Join(portLockDir, strconv.Itoa(p)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
