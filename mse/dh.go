package mse

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
)

// prime is P of the specification: the 768-bit prime of the first Oakley
// group (RFC 2409); the generator is 2.
var prime, _ = new(big.Int).SetString(
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"+
		"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"+
		"4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563", 16)

var generator = big.NewInt(2)

// privateBits is the size of a private key: the specification asks for at
// least 128 bits and recommends 160.
const privateBits = 160

// dhKey is one side's Diffie-Hellman key pair.
type dhKey struct {
	x *big.Int      // private
	y [keySize]byte // public, G^x mod P, big-endian and zero-padded
}

// newDHKey makes a key pair from the randomness of src, or crypto/rand's
// when src is nil.
func newDHKey(src io.Reader) (*dhKey, error) {
	if src == nil {
		src = rand.Reader
	}
	var b [privateBits / 8]byte
	if _, err := io.ReadFull(src, b[:]); err != nil {
		return nil, fmt.Errorf("mse: private key: %w", err)
	}
	k := &dhKey{x: new(big.Int).SetBytes(b[:])}
	new(big.Int).Exp(generator, k.x, prime).FillBytes(k.y[:])
	return k, nil
}

// secret is S, the shared secret with the other side's public key y.
// A public key of 0, 1 or P-1 and above would make S guessable: refused.
func (k *dhKey) secret(y []byte) ([keySize]byte, error) {
	var s [keySize]byte
	pub := new(big.Int).SetBytes(y)
	limit := new(big.Int).Sub(prime, big.NewInt(1))
	if pub.Cmp(big.NewInt(1)) <= 0 || pub.Cmp(limit) >= 0 {
		return s, fmt.Errorf("%w: public key out of range", ErrBadHandshake)
	}
	new(big.Int).Exp(pub, k.x, prime).FillBytes(s[:])
	return s, nil
}
