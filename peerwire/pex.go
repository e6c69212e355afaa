package peerwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/bitorigin/bitorigin/bencode"
)

// PexExtension is the name of peer exchange in an ExtensionHandshake's M
// (BEP 11).
const PexExtension = "ut_pex"

// PexMaxPeers is the most peers BEP 11 allows in each of a message's added
// and dropped lists.
const PexMaxPeers = 50

// PEX flags of an added peer (BEP 11 "added.f").
const (
	PexPrefersEncryption byte = 0x01
	PexSeed              byte = 0x02 // upload only
	PexUTP               byte = 0x04
	PexHolepunch         byte = 0x08
	PexReachable         byte = 0x10 // the sender connected to it
)

// ErrPex is returned (wrapped) by ParsePex for a message whose peer lists
// are not whole compact addresses.
var ErrPex = errors.New("peerwire: bad ut_pex message")

// PexPeer is a peer a Pex message adds, with its BEP 11 flags.
type PexPeer struct {
	Addr  netip.AddrPort
	Flags byte
}

// Pex tells a peer which peers of the torrent the sender connected to and
// dropped since its previous Pex message (BEP 11). IPv4 and IPv6 peers go
// in one list each here; the wire splits them by family.
type Pex struct {
	ExtID   uint8 // the ID the receiver assigned to ut_pex
	Added   []PexPeer
	Dropped []netip.AddrPort
}

// AppendTo appends the message as an extended message, keys in sorted
// order. Lists that are empty are left out.
func (m Pex) AppendTo(b []byte) []byte {
	start := len(b)
	b = appendExtendedHeader(b, m.ExtID)
	var added4, added6, dropped4, dropped6 int
	for _, p := range m.Added {
		if p.Addr.Addr().Is4() {
			added4++
		} else {
			added6++
		}
	}
	for _, ap := range m.Dropped {
		if ap.Addr().Is4() {
			dropped4++
		} else {
			dropped6++
		}
	}
	// The keys in sorted order, each list written straight from m.
	b = bencode.AppendDict(b)
	if added4 > 0 {
		b = bencode.AppendStringHeader(bencode.AppendString(b, "added"), added4*6)
		b = appendAdded(b, m.Added, true, false)
		b = bencode.AppendStringHeader(bencode.AppendString(b, "added.f"), added4)
		b = appendAdded(b, m.Added, true, true)
	}
	if added6 > 0 {
		b = bencode.AppendStringHeader(bencode.AppendString(b, "added6"), added6*18)
		b = appendAdded(b, m.Added, false, false)
		b = bencode.AppendStringHeader(bencode.AppendString(b, "added6.f"), added6)
		b = appendAdded(b, m.Added, false, true)
	}
	if dropped4 > 0 {
		b = bencode.AppendStringHeader(bencode.AppendString(b, "dropped"), dropped4*6)
		b = appendDropped(b, m.Dropped, true)
	}
	if dropped6 > 0 {
		b = bencode.AppendStringHeader(bencode.AppendString(b, "dropped6"), dropped6*18)
		b = appendDropped(b, m.Dropped, false)
	}
	b = bencode.AppendEnd(b)
	return patchLength(b, start)
}

// appendAdded appends the compact addresses, or the flags, of the added
// peers of one address family.
func appendAdded(b []byte, added []PexPeer, v4, flags bool) []byte {
	for _, p := range added {
		switch {
		case p.Addr.Addr().Is4() != v4:
		case flags:
			b = append(b, p.Flags)
		default:
			b = appendCompact(b, p.Addr)
		}
	}
	return b
}

// appendDropped appends the compact addresses of the dropped peers of one
// address family.
func appendDropped(b []byte, dropped []netip.AddrPort, v4 bool) []byte {
	for _, ap := range dropped {
		if ap.Addr().Is4() == v4 {
			b = appendCompact(b, ap)
		}
	}
	return b
}

// appendCompact appends an address in compact form: 4 or 16 bytes of IP,
// then the port, big-endian (BEP 23, BEP 7). An IPv4-mapped IPv6 address
// stays 16 bytes: callers unmap what should go in the IPv4 lists.
func appendCompact(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr()
	if a.Is4() {
		ip := a.As4()
		b = append(b, ip[:]...)
	} else {
		ip := a.As16()
		b = append(b, ip[:]...)
	}
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

// ParsePex decodes a ut_pex message. Lists whose length is not a multiple
// of the compact size are an ErrPex; flags missing for some added peers
// are taken as 0, extra flags ignored; unknown keys are ignored.
func ParsePex(m *Extended) (*Pex, error) {
	var a4, f4, a6, f6, d4, d6 []byte
	d := bencode.NewDecoder(m.Payload)
	err := d.Dict(func(key []byte) error {
		switch string(key) {
		case "added":
			return bytesIn(d, &a4)
		case "added.f":
			return bytesIn(d, &f4)
		case "added6":
			return bytesIn(d, &a6)
		case "added6.f":
			return bytesIn(d, &f6)
		case "dropped":
			return bytesIn(d, &d4)
		case "dropped6":
			return bytesIn(d, &d6)
		}
		return nil // left unread: skipped
	})
	if err != nil {
		return nil, fmt.Errorf("peerwire: ut_pex: %w", err)
	}
	p := &Pex{ExtID: m.ExtID}
	for _, l := range []struct {
		addrs, flags []byte
		size         int
		dropped      bool
	}{{a4, f4, 6, false}, {a6, f6, 18, false}, {d4, nil, 6, true}, {d6, nil, 18, true}} {
		if len(l.addrs)%l.size != 0 {
			return nil, fmt.Errorf("%w: a list of %d bytes, not a multiple of %d", ErrPex, len(l.addrs), l.size)
		}
		for i := 0; i < len(l.addrs)/l.size; i++ {
			c := l.addrs[i*l.size : (i+1)*l.size]
			ip, _ := netip.AddrFromSlice(c[:l.size-2])
			ap := netip.AddrPortFrom(ip, binary.BigEndian.Uint16(c[l.size-2:]))
			if l.dropped {
				p.Dropped = append(p.Dropped, ap)
				continue
			}
			var f byte
			if i < len(l.flags) {
				f = l.flags[i]
			}
			p.Added = append(p.Added, PexPeer{Addr: ap, Flags: f})
		}
	}
	return p, nil
}

func (*Pex) message() {}
