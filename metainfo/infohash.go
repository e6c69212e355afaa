package metainfo

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// InfoHash is a v1 info hash: the SHA-1 of a torrent's info dictionary.
type InfoHash [HashSize]byte

// String returns the hash as 40 lower-case hex digits, as clients show it.
func (h InfoHash) String() string { return hex.EncodeToString(h[:]) }

// ParseInfoHash reads an info hash written as 40 hex digits or, as older
// magnet links do, 32 base32 characters.
func ParseInfoHash(s string) (InfoHash, error) {
	var h InfoHash
	var err error
	switch len(s) {
	case 2 * HashSize:
		_, err = hex.Decode(h[:], []byte(s))
	case 32:
		var b []byte
		// RFC 4648 base32 without padding; magnet links use upper case but
		// some generators write lower case.
		b, err = base32.StdEncoding.DecodeString(strings.ToUpper(s))
		if err == nil {
			copy(h[:], b)
		}
	default:
		return h, fmt.Errorf("info hash %q: want 40 hex or 32 base32 characters, got %d", s, len(s))
	}
	if err != nil {
		return InfoHash{}, fmt.Errorf("info hash %q: %w", s, err)
	}
	return h, nil
}

// HashSizeV2 is the size of a SHA-256 hash: a v2 info hash, a pieces root
// or a piece layer hash (BEP 52).
const HashSizeV2 = sha256.Size

// InfoHashV2 is a v2 info hash: the SHA-256 of a torrent's info dictionary
// (BEP 52).
type InfoHashV2 [HashSizeV2]byte

// String returns the hash as 64 lower-case hex digits.
func (h InfoHashV2) String() string { return hex.EncodeToString(h[:]) }

// Truncate returns the hash's first 20 bytes: what a v2 torrent is known by
// wherever the v1 protocol has room for 20 bytes only, such as the peer
// wire handshake, tracker announces and scrapes, and the DHT (BEP 52).
func (h InfoHashV2) Truncate() InfoHash { return InfoHash(h[:HashSize]) }

// ParseInfoHashV2 reads a v2 info hash written as 64 hex digits.
func ParseInfoHashV2(s string) (InfoHashV2, error) {
	var h InfoHashV2
	if len(s) != 2*HashSizeV2 {
		return h, fmt.Errorf("v2 info hash %q: want 64 hex digits, got %d characters", s, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return InfoHashV2{}, fmt.Errorf("v2 info hash %q: %w", s, err)
	}
	return h, nil
}

// Hash256 is a SHA-256 hash in a BEP 52 merkle tree: a file's pieces root,
// a piece layer hash, or a block hash.
type Hash256 [HashSizeV2]byte

// String returns the hash as 64 lower-case hex digits.
func (h Hash256) String() string { return hex.EncodeToString(h[:]) }
