// Package mse is Message Stream Encryption, also called Protocol
// Encryption (MSE/PE): the obfuscated handshake BitTorrent clients such as
// libtorrent, Transmission and Vuze speak before the BitTorrent handshake.
//
// The two sides agree on a secret S with a 768-bit Diffie-Hellman exchange,
// the initiator names the torrent by HASH('req2', SKEY) (SKEY is the info
// hash) without revealing it, and the stream that follows is RC4-encrypted
// or, when both sides agree, plaintext:
//
//	1 A->B: Ya, PadA
//	2 B->A: Yb, PadB
//	3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//	        ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//	4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
//	5 A->B: ENCRYPT2(payload)
//
// HASH is SHA-1, VC eight zero bytes, ENCRYPT RC4 keyed with
// HASH('keyA', S, SKEY) from A and HASH('keyB', S, SKEY) from B, each
// keystream's first 1024 bytes discarded; ENCRYPT2 is the selected method.
// IA, the initial payload, usually carries A's BitTorrent handshake.
//
// RC4 is broken as a cipher; MSE uses it to get past traffic shaping, not
// for secrecy, and every client speaks only RC4, so this package does too.
//
// The package is a codec over a net.Conn: it sets no deadlines of its own.
// Callers bound a handshake with SetDeadline.
package mse

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
)

// Method is a set of crypto methods: the crypto_provide and crypto_select
// fields of the handshake.
type Method uint32

// The methods of the specification.
const (
	Plaintext Method = 0x01
	RC4       Method = 0x02
)

// String names the methods in m, for logs.
func (m Method) String() string {
	switch m {
	case 0:
		return "none"
	case Plaintext:
		return "plaintext"
	case RC4:
		return "rc4"
	case Plaintext | RC4:
		return "plaintext|rc4"
	}
	return fmt.Sprintf("methods(%#x)", uint32(m))
}

// MaxPadding is the most bytes any of PadA, PadB, PadC and PadD may hold.
const MaxPadding = 512

// keySize is the length in bytes of Ya, Yb and S.
const keySize = 96

// Errors a handshake can end with, wrapped with details.
var (
	// ErrUnknownSKey means the initiator asked for a torrent the responder
	// does not have.
	ErrUnknownSKey = errors.New("mse: unknown SKEY (info hash)")
	// ErrNoMethod means the two sides share no crypto method.
	ErrNoMethod = errors.New("mse: no crypto method in common")
	// ErrNotFound means the other side's synchronisation hash was not
	// where it must be, after at most MaxPadding bytes of padding.
	ErrNotFound = errors.New("mse: handshake synchronisation not found")
	// ErrBadHandshake is any other malformed handshake.
	ErrBadHandshake = errors.New("mse: malformed handshake")
)

// SKeyLookup finds the SKEY (info hash) whose HASH('req2', SKEY) is req2;
// a responder uses it to learn which torrent the initiator wants. Build
// the table it searches with Req2.
type SKeyLookup func(req2 [20]byte) (skey [20]byte, ok bool)

// Req2 is HASH('req2', skey), the value an SKeyLookup is asked for.
func Req2(skey [20]byte) [20]byte { return hash([]byte("req2"), skey[:]) }

// hash is SHA-1 over the concatenation of parts.
func hash(parts ...[]byte) [20]byte {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [20]byte
	h.Sum(out[:0])
	return out
}

// Config tunes a handshake. The zero value offers or accepts RC4 only,
// with random padding.
type Config struct {
	// Methods are the methods offered (initiator) or accepted
	// (responder); 0 means RC4 only. A responder picks RC4 whenever both
	// sides allow it.
	Methods Method
	// SKeys finds the torrent an initiator asks for; responder only.
	SKeys SKeyLookup
	// InitialPayload is IA, sent with the initiator's step 3 (at most
	// 65535 bytes); initiator only.
	InitialPayload []byte
	// Padding, when set, gives the length of every padding we send
	// (clamped to 0..MaxPadding); nil means random lengths for PadA and
	// PadB and none for PadC and PadD, as other clients do.
	Padding func() int

	// keyRand, when set, replaces crypto/rand for the private key, so
	// fuzzing sees the same S for the same input.
	keyRand io.Reader
}

func (c Config) methods() Method {
	if c.Methods == 0 {
		return RC4
	}
	return c.Methods
}
