package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a byte count written as digits with an optional binary
// suffix: 262144, 256K, 256KiB, 1M, 1MiB, 1G. It accepts up to 2^62 bytes;
// a caller with a smaller limit checks it itself.
func ParseSize(v string) (int64, error) {
	num := strings.TrimRight(v, "KMGIBkmgib")
	suffix := strings.ToUpper(v[len(num):])
	shift := 0
	switch suffix {
	case "", "B":
	case "K", "KIB":
		shift = 10
	case "M", "MIB":
		shift = 20
	case "G", "GIB":
		shift = 30
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (use K, M or G, powers of 1024)", v, v[len(num):])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive whole number of bytes, optionally with K, M or G", v)
	}
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q: too large", v)
	}
	return n << shift, nil
}
