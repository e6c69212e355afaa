package testenv

import (
	"testing"
	"time"
)

// pollEvery is how often Poll looks at its condition.
const pollEvery = 10 * time.Millisecond

// Poll reports whether cond became true within timeout, looking every 10
// ms. Tests wait on observed state with it, never on a sleep alone.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollEvery)
	}
	return true
}

// Eventually fails t unless cond becomes true within timeout; what names
// the awaited state in the failure.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %s waiting until %s", timeout, what)
	}
}
