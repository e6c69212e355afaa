// Package sha1x2 computes the SHA-1 of two messages of equal length at once.
//
// One SHA-1 is a chain of dependent rounds: even with the CPU's SHA
// instructions (SHA-NI), a core spends most of its time waiting for the
// previous round's result. Interleaving the rounds of two independent
// messages fills those waits, so a core hashes nearly twice as fast. Torrent
// pieces are independent and of equal length, which is why this exists:
// hashing pieces is what creating and verifying torrents spend their time on.
//
// Without SHA-NI (or off amd64), Sum2 hashes the messages one after the
// other with crypto/sha1.
package sha1x2

import (
	"crypto/sha1"
	"encoding/binary"
)

//go:generate go run gen.go

// Size is the size of a SHA-1 checksum in bytes.
const Size = sha1.Size

// Accelerated reports whether Sum2 hashes two messages at once on this CPU.
func Accelerated() bool { return useSHANI }

var initial = [5]uint32{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}

// Sum2 returns the SHA-1 checksums of a and b. It is fastest when they have
// the same length; otherwise it hashes them one after the other.
func Sum2(a, b []byte) (sumA, sumB [Size]byte) {
	if !useSHANI || len(a) != len(b) {
		return sha1.Sum(a), sha1.Sum(b)
	}
	sa, sb := initial, initial
	whole := len(a) &^ 63
	if whole > 0 {
		blocks2(&sa, &sb, a[:whole], b[:whole])
	}
	// Equal lengths mean equally long padding, so the last blocks of both
	// messages go through together too.
	var bufA, bufB [128]byte
	blocks2(&sa, &sb, pad(bufA[:], a[whole:], len(a)), pad(bufB[:], b[whole:], len(b)))
	return digest(sa), digest(sb)
}

// pad appends SHA-1's padding (a one bit, zeros, the length in bits) to the
// message's last partial block, in buf, which must be zero.
func pad(buf, tail []byte, length int) []byte {
	n := copy(buf, tail)
	buf[n] = 0x80
	end := 64
	if n >= 56 {
		end = 128
	}
	binary.BigEndian.PutUint64(buf[end-8:end], uint64(length)<<3)
	return buf[:end]
}

func digest(s [5]uint32) (d [Size]byte) {
	for i, v := range s {
		binary.BigEndian.PutUint32(d[4*i:], v)
	}
	return d
}
