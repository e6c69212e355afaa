//go:build unix

package testenv

import (
	"syscall"
	"testing"
)

// SockoptInt reads an integer socket option of c's descriptor, failing the
// test if it cannot.
func SockoptInt(t testing.TB, c syscall.Conn, level, opt int) int {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var serr error
	if err := raw.Control(func(fd uintptr) { n, serr = syscall.GetsockoptInt(int(fd), level, opt) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, serr)
	}
	return n
}
