package metainfo

import (
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
