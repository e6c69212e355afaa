package testenv

import (
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A port found free by binding port 0 was, until recently, what the tests
// used; it lies in the kernel's ephemeral range, from which every bind to
// port 0 and every outgoing connection on the machine draws. Between the
// test finding it and the program binding it (a second or more, for a
// client that starts slowly on a busy machine), anything else on the
// machine could take it: aria2c failed with "failed to bind TCP port ...:
// Address already in use" on a port FreePort had just returned. So ports
// are handed out below (or above) the ephemeral range, where the kernel
// never picks one by itself, and claimed with a lock file so that test
// processes running at once (go test runs packages in parallel) never
// hand out the same one.

// portLockDir holds one lock file per claimed port, shared by every test
// process on the machine.
var portLockDir = filepath.Join(os.TempDir(), "bitorigin-test-ports")

// portRange returns the ports handed out: the larger of the spans below and
// above the kernel's ephemeral range, leaving out the ports below 10,000.
func portRange() (lo, hi int) {
	eLo, eHi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			l, err1 := strconv.Atoi(f[0])
			h, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && l <= h {
				eLo, eHi = l, h
			}
		}
	}
	if eLo-10000 >= 65535-eHi {
		return 10000, eLo - 1
	}
	return eHi + 1, 65535
}

// claimPort returns a port outside the ephemeral range that no other test
// holds and that is free for TCP and UDP, on every address. It stays
// claimed until the test ends.
func claimPort(t testing.TB) int {
	t.Helper()
	if err := os.MkdirAll(portLockDir, 0o777); err != nil {
		t.Fatalf("claim a port: %v", err)
	}
	lo, hi := portRange()
	n := hi - lo + 1
	start := rand.IntN(n)
	for i := range min(n, 2000) {
		p := lo + (start+i)%n
		f, err := os.OpenFile(filepath.Join(portLockDir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			continue
		}
		// flock locks belong to the open file: another open of the same
		// file, in this process or another, is refused until f is closed
		// (or its process exits).
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil || !portFree(p) {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() })
		return p
	}
	t.Fatalf("no free port in %d-%d", lo, hi)
	return 0
}

// portFree reports whether p can be bound for TCP and UDP on the wildcard
// address (so on every address, IPv4 and IPv6) at the moment.
func portFree(p int) bool {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	defer l.Close()
	c, err := net.ListenPacket("udp", ":"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// FreePort returns a port free on loopback for both TCP and UDP, for
// programs that listen on both with one number (BitTorrent clients with
// DHT, trackers), and claims it for the rest of the test: it is outside
// the kernel's ephemeral range, so no outgoing connection or bind to port
// 0 can take it, and no other test is given it.
func FreePort(t testing.TB) int {
	t.Helper()
	return claimPort(t)
}

// FreeTCPPort is FreePort, for a program that listens on TCP only.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	return claimPort(t)
}

// FreeUDPPort is FreePort, for a program that listens on UDP only.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	return claimPort(t)
}
