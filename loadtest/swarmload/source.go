package swarmload

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/bencode"
	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
)

// announcePort is the port the run tells trackers it listens on. Nothing
// listens there: a seeder that dials the leechers it learns of is refused
// at once, and the leechers connect to it themselves.
const announcePort = 1

// askTrackers announces to each HTTP tracker in turn as a leecher and
// returns the peers of the first that answers; then it announces stopped,
// so the tracker does not hand the run's address out.
func askTrackers(ctx context.Context, trackers []string, ih [20]byte, timeout time.Duration) ([]netip.AddrPort, error) {
	hc := announcer.NewHTTPClient(timeout)
	req := &announcer.Request{InfoHash: ih, PeerID: newPeerID(), Port: announcePort, Left: 1,
		Event: announcer.EventStarted, NumWant: 200}
	var errs []error
	for _, tr := range trackers {
		if u, err := url.Parse(tr); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("tracker %s: only HTTP trackers can be asked; give the seeder's address", tr))
			continue
		}
		resp, err := hc.Announce(ctx, tr, req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stop := *req
		stop.Event = announcer.EventStopped
		hc.Announce(ctx, tr, &stop) // best effort
		if len(resp.Peers) == 0 {
			errs = append(errs, fmt.Errorf("tracker %s: no peers for %x", tr, ih))
			continue
		}
		return resp.Peers, nil
	}
	if len(errs) == 0 {
		return nil, errors.New("the torrent names no tracker: give the seeder's address")
	}
	return nil, errors.Join(errs...)
}

// probe connects to addr and reports whether it is a seeder: it has all
// numPieces pieces, or it is our origin seeder, which under offload
// announces none and reveals them a few at a time (its extension handshake
// comes before its pieces and names it).
func probe(ctx context.Context, addr string, ih [20]byte, numPieces uint32, timeout time.Duration) (bool, error) {
	c, err := dialPeer(ctx, "seeder", addr, ih, newPeerID(), timeout)
	if err != nil {
		return false, err
	}
	defer c.close()
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	r := peerwire.NewReader(c.br, peerwire.ReaderConfig{Pieces: numPieces})
	origin := false
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return false, fmt.Errorf("seeder %s: %w", addr, err)
		}
		switch m := m.(type) {
		case *peerwire.Extended:
			if m.ExtID == peerwire.ExtHandshakeID {
				h, err := peerwire.ParseExtensionHandshake(m)
				origin = err == nil && strings.HasPrefix(h.V, version.Name+"/")
			}
		case *peerwire.HaveAll:
			return true, nil
		case *peerwire.HaveNone:
			return origin, nil
		case *peerwire.Bitfield:
			full := true
			for i := range numPieces {
				if m.Bits[i/8]&(0x80>>(i%8)) == 0 {
					full = false
					break
				}
			}
			return full || origin, nil
		}
	}
}

// fetchTorrent gets the info dictionary of ih from the peer at addr
// (BEP 9), checks it against the info hash and returns it as a torrent.
func fetchTorrent(ctx context.Context, addr string, ih [20]byte, timeout time.Duration) (*metainfo.Torrent, error) {
	c, err := dialPeer(ctx, "seeder", addr, ih, newPeerID(), timeout)
	if err != nil {
		return nil, err
	}
	defer c.close()
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	r := peerwire.NewReader(c.br, peerwire.ReaderConfig{})
	var (
		info []byte
		got  []bool
		left int
	)
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("metadata from %s: %w", addr, err)
		}
		ext, ok := m.(*peerwire.Extended)
		if !ok {
			continue
		}
		if ext.ExtID == peerwire.ExtHandshakeID {
			h, err := peerwire.ParseExtensionHandshake(ext)
			if err != nil {
				return nil, fmt.Errorf("metadata from %s: %w", addr, err)
			}
			id := h.M[peerwire.MetadataExtension]
			if id == 0 || h.MetadataSize <= 0 || h.MetadataSize > metainfo.MaxSize {
				return nil, fmt.Errorf("metadata from %s: peer offers no ut_metadata (size %d)", addr, h.MetadataSize)
			}
			info = make([]byte, h.MetadataSize)
			n := (h.MetadataSize + peerwire.MetadataPieceSize - 1) / peerwire.MetadataPieceSize
			got, left = make([]bool, n), n
			for i := range n {
				c.w.Write(peerwire.MetadataRequest{ExtID: id, Piece: uint32(i)}.AppendTo(c.w.AvailableBuffer()))
			}
			if err := c.w.Flush(); err != nil {
				return nil, fmt.Errorf("metadata from %s: %w", addr, err)
			}
			continue
		}
		if ext.ExtID != ourMetadataID || info == nil {
			continue
		}
		msg, err := peerwire.ParseMetadata(ext)
		if err != nil {
			return nil, fmt.Errorf("metadata from %s: %w", addr, err)
		}
		d, ok := msg.(*peerwire.MetadataData)
		if !ok {
			return nil, fmt.Errorf("metadata from %s: piece refused", addr)
		}
		off := int(d.Piece) * peerwire.MetadataPieceSize
		if d.TotalSize != len(info) || int(d.Piece) >= len(got) || off+len(d.Data) > len(info) {
			return nil, fmt.Errorf("metadata from %s: piece %d does not fit %d bytes", addr, d.Piece, len(info))
		}
		copy(info[off:], d.Data)
		if !got[d.Piece] {
			got[d.Piece] = true
			left--
		}
		if left == 0 {
			break
		}
	}
	if sha1.Sum(info) != ih {
		return nil, fmt.Errorf("metadata from %s: does not hash to %x", addr, ih)
	}
	// A torrent that is only its info dictionary, already bencoded.
	b := bencode.AppendString(bencode.AppendDict(nil), "info")
	b = bencode.AppendEnd(append(b, info...))
	t, err := metainfo.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("metadata from %s: %w", addr, err)
	}
	return t, nil
}
