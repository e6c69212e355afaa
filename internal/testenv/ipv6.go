package testenv

import (
	"net/netip"
	"os"
	"strings"
	"testing"
)

// NoIPv6Env names the environment variable that lets tests skip what
// needs IPv6 loopback, on a machine that has none.
const NoIPv6Env = "BITORIGIN_TEST_NO_IPV6"

// NoLoopback ends a test that could not listen on or dial the loopback
// address addr (err says why). It fails: a skip would pass in CI without
// testing anything. Only for an IPv6 address, and only when NoIPv6Env is
// 1, does it skip, since some machines have no IPv6 loopback (their owner
// says so by setting it).
func NoLoopback(t testing.TB, addr string, err error) {
	t.Helper()
	if !isIPv6(addr) {
		t.Fatalf("no %s: %v", addr, err)
	}
	if os.Getenv(NoIPv6Env) == "1" {
		t.Skipf("no %s: %v (%s=1)", addr, err, NoIPv6Env)
	}
	t.Fatalf("no %s: %v; on a machine without IPv6 loopback, set %s=1 to skip the IPv6 cases", addr, err, NoIPv6Env)
}

// isIPv6 tells whether addr (a host, or host and port) is an IPv6
// address.
func isIPv6(addr string) bool {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Is6() && !ap.Addr().Is4In6()
	}
	if a, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
		return a.Is6() && !a.Is4In6()
	}
	return false
}
