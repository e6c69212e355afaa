package mse

import (
	"bytes"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
)

// discard is how many keystream bytes each RC4 key throws away first.
const discard = 1024

// maxIA bounds the initial payload we accept: its length field is 16 bits.
const maxIA = 1<<16 - 1

// Accept runs the responder's side (B) of a handshake that c's peer
// started. It reads from r, which may hold bytes already read from c (a
// bufio.Reader that sniffed the first bytes), or from c when r is nil. It
// returns the stream that follows, whose first bytes are the peer's
// initial payload, decrypted.
func Accept(c net.Conn, r io.Reader, cfg Config) (*Conn, error) {
	if r == nil {
		r = c
	}
	if cfg.SKeys == nil {
		return nil, fmt.Errorf("mse: responder without SKEY lookup")
	}
	// 1: Ya. PadA is skipped while looking for step 3.
	var ya [keySize]byte
	if _, err := io.ReadFull(r, ya[:]); err != nil {
		return nil, fmt.Errorf("mse: reading Ya: %w", err)
	}
	key, err := newDHKey(cfg.keyRand)
	if err != nil {
		return nil, err
	}
	s, err := key.secret(ya[:])
	if err != nil {
		return nil, err
	}
	// 2: Yb, PadB.
	if _, err := c.Write(appendPad(key.y[:], cfg, true)); err != nil {
		return nil, fmt.Errorf("mse: sending Yb: %w", err)
	}
	// 3: HASH('req1', S) ends PadA.
	req1 := hash([]byte("req1"), s[:])
	rest, err := syncOn(r, req1[:])
	if err != nil {
		return nil, fmt.Errorf("mse: finding HASH('req1', S): %w", err)
	}
	pr := &prefixReader{buf: rest, r: r}
	var x [20]byte
	if _, err := io.ReadFull(pr, x[:]); err != nil {
		return nil, fmt.Errorf("mse: reading the SKEY hash: %w", err)
	}
	req3 := hash([]byte("req3"), s[:])
	var req2 [20]byte
	for i := range req2 {
		req2[i] = x[i] ^ req3[i]
	}
	skey, ok := cfg.SKeys(req2)
	if !ok {
		return nil, fmt.Errorf("%w: HASH('req2', SKEY) %x", ErrUnknownSKey, req2)
	}
	dec := newCipher("keyA", s, skey)
	enc := newCipher("keyB", s, skey)
	var head [8 + 4 + 2]byte
	if _, err := io.ReadFull(pr, head[:]); err != nil {
		return nil, fmt.Errorf("mse: reading crypto_provide: %w", err)
	}
	dec.XORKeyStream(head[:], head[:])
	if !isZero(head[:8]) {
		return nil, fmt.Errorf("%w: VC %x is not zero", ErrBadHandshake, head[:8])
	}
	provide := Method(binary.BigEndian.Uint32(head[8:]))
	padC := int(binary.BigEndian.Uint16(head[12:]))
	if padC > MaxPadding {
		return nil, fmt.Errorf("%w: PadC of %d bytes", ErrBadHandshake, padC)
	}
	// PadC and len(IA); then IA.
	buf := make([]byte, padC+2)
	if _, err := io.ReadFull(pr, buf); err != nil {
		return nil, fmt.Errorf("mse: reading PadC: %w", err)
	}
	dec.XORKeyStream(buf, buf)
	ia := make([]byte, binary.BigEndian.Uint16(buf[padC:]))
	if _, err := io.ReadFull(pr, ia); err != nil {
		return nil, fmt.Errorf("mse: reading IA of %d bytes: %w", len(ia), err)
	}
	dec.XORKeyStream(ia, ia)

	var sel Method
	switch allowed := cfg.methods(); {
	case provide&allowed&RC4 != 0:
		sel = RC4
	case provide&allowed&Plaintext != 0:
		sel = Plaintext
	default:
		return nil, fmt.Errorf("%w: peer provides %s, we allow %s", ErrNoMethod, provide, allowed)
	}
	// 4: ENCRYPT(VC, crypto_select, len(PadD), PadD).
	out := make([]byte, 8, 8+4+2+MaxPadding)
	out = binary.BigEndian.AppendUint32(out, uint32(sel))
	out = appendPadWithLength(out, cfg)
	enc.XORKeyStream(out, out)
	if _, err := c.Write(out); err != nil {
		return nil, fmt.Errorf("mse: sending crypto_select: %w", err)
	}
	return newConn(c, pr, sel, skey, enc, dec, ia), nil
}

// Initiate runs the initiator's side (A) of a handshake on c for the
// torrent skey (its info hash), sending cfg.InitialPayload as IA. It
// returns the stream that follows.
func Initiate(c net.Conn, skey [20]byte, cfg Config) (*Conn, error) {
	if len(cfg.InitialPayload) > maxIA {
		return nil, fmt.Errorf("mse: IA of %d bytes: more than %d", len(cfg.InitialPayload), maxIA)
	}
	key, err := newDHKey(cfg.keyRand)
	if err != nil {
		return nil, err
	}
	// 1: Ya, PadA.
	if _, err := c.Write(appendPad(key.y[:], cfg, true)); err != nil {
		return nil, fmt.Errorf("mse: sending Ya: %w", err)
	}
	// 2: Yb. PadB is skipped while looking for step 4.
	var yb [keySize]byte
	if _, err := io.ReadFull(c, yb[:]); err != nil {
		return nil, fmt.Errorf("mse: reading Yb: %w", err)
	}
	s, err := key.secret(yb[:])
	if err != nil {
		return nil, err
	}
	enc := newCipher("keyA", s, skey)
	dec := newCipher("keyB", s, skey)
	// 3: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
	// ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA).
	req1 := hash([]byte("req1"), s[:])
	req2 := Req2(skey)
	req3 := hash([]byte("req3"), s[:])
	out := make([]byte, 0, 40+8+4+2+MaxPadding+2+len(cfg.InitialPayload))
	out = append(out, req1[:]...)
	for i := range req2 {
		out = append(out, req2[i]^req3[i])
	}
	start := len(out)
	out = append(out, make([]byte, 8)...)
	provide := cfg.methods()
	out = binary.BigEndian.AppendUint32(out, uint32(provide))
	out = appendPadWithLength(out, cfg)
	out = binary.BigEndian.AppendUint16(out, uint16(len(cfg.InitialPayload)))
	out = append(out, cfg.InitialPayload...)
	enc.XORKeyStream(out[start:], out[start:])
	if _, err := c.Write(out); err != nil {
		return nil, fmt.Errorf("mse: sending crypto_provide: %w", err)
	}
	// 4: ENCRYPT(VC) ends PadB.
	var vc [8]byte
	dec.XORKeyStream(vc[:], vc[:])
	rest, err := syncOn(c, vc[:])
	if err != nil {
		return nil, fmt.Errorf("mse: finding ENCRYPT(VC): %w", err)
	}
	pr := &prefixReader{buf: rest, r: c}
	var head [4 + 2]byte
	if _, err := io.ReadFull(pr, head[:]); err != nil {
		return nil, fmt.Errorf("mse: reading crypto_select: %w", err)
	}
	dec.XORKeyStream(head[:], head[:])
	sel := Method(binary.BigEndian.Uint32(head[:]))
	if sel != RC4 && sel != Plaintext || sel&provide == 0 {
		return nil, fmt.Errorf("%w: peer selected %s, we provided %s", ErrNoMethod, sel, provide)
	}
	padD := int(binary.BigEndian.Uint16(head[4:]))
	if padD > MaxPadding {
		return nil, fmt.Errorf("%w: PadD of %d bytes", ErrBadHandshake, padD)
	}
	pad := make([]byte, padD)
	if _, err := io.ReadFull(pr, pad); err != nil {
		return nil, fmt.Errorf("mse: reading PadD: %w", err)
	}
	dec.XORKeyStream(pad, pad)
	return newConn(c, pr, sel, skey, enc, dec, nil), nil
}

// syncOn reads from r until it has seen mark, which must begin within the
// first MaxPadding bytes, and returns what it read after mark.
func syncOn(r io.Reader, mark []byte) ([]byte, error) {
	limit := MaxPadding + len(mark)
	buf := make([]byte, 0, limit)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		// Search only where the new bytes can complete a match.
		from := max(0, len(buf)-len(mark)+1)
		buf = buf[:len(buf)+n]
		if i := bytes.Index(buf[from:], mark); i >= 0 {
			i += from
			return bytes.Clone(buf[i+len(mark):]), nil
		}
		if len(buf) == cap(buf) {
			return nil, fmt.Errorf("%w within %d bytes", ErrNotFound, limit)
		}
		if err != nil {
			return nil, err
		}
	}
}

// newCipher is RC4 keyed with HASH(name, S, SKEY), past the discarded
// start of its keystream.
func newCipher(name string, s [keySize]byte, skey [20]byte) *rc4.Cipher {
	k := hash([]byte(name), s[:], skey[:])
	// RC4 is weak, but MSE is defined with it and every peer speaks only it.
	c, _ := rc4.NewCipher(k[:]) // only fails for a key of 0 or >256 bytes
	var skip [discard]byte
	c.XORKeyStream(skip[:], skip[:])
	return c
}

// padLen is the length of the next padding we send.
func padLen(cfg Config, dh bool) int {
	if cfg.Padding != nil {
		return min(max(cfg.Padding(), 0), MaxPadding)
	}
	if dh {
		return mrand.IntN(MaxPadding + 1)
	}
	return 0
}

// appendPad appends random padding (PadA or PadB).
func appendPad(b []byte, cfg Config, dh bool) []byte {
	n := padLen(cfg, dh)
	b = append(b, make([]byte, n)...)
	rand.Read(b[len(b)-n:])
	return b
}

// appendPadWithLength appends len(Pad) and zero padding (PadC, PadD): it
// is encrypted anyway.
func appendPadWithLength(b []byte, cfg Config) []byte {
	n := padLen(cfg, false)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	return append(b, make([]byte, n)...)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// prefixReader reads buf, then r.
type prefixReader struct {
	buf []byte
	r   io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}
