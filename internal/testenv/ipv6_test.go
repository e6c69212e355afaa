package testenv

import "testing"

func TestIsIPv6(t *testing.T) {
	for addr, want := range map[string]bool{
		"::1": true, "[::1]": true, "[::1]:0": true, "[::1]:6881": true,
		"127.0.0.1": false, "127.0.0.1:0": false, ":0": false, "localhost:80": false, "[::ffff:127.0.0.1]:1": false,
	} {
		if got := isIPv6(addr); got != want {
			t.Errorf("isIPv6(%q) = %v, want %v", addr, got, want)
		}
	}
}
