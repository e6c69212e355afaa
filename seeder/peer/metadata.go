package peer

import (
	"errors"
	"fmt"

	"github.com/bitorigin/bitorigin/peerwire"
)

// onExtended handles BEP 10 messages: the peer's extension handshake and
// ut_metadata requests (BEP 9), which we answer from the info dictionary
// so that a magnet link is enough to download.
func (c *Conn) onExtended(m *peerwire.Extended) error {
	switch m.ExtID {
	case peerwire.ExtHandshakeID:
		h, err := peerwire.ParseExtensionHandshake(m)
		if err != nil {
			return err
		}
		c.peerMetadataID = h.M[peerwire.MetadataExtension]
		c.t.Extensions(c, h.P, h.M[peerwire.PexExtension])
		if h.UploadOnly && c.t.complete() {
			// BEP 21: a peer that only uploads wants nothing from a seed.
			return errPeerIsSeed
		}
	case MetadataID:
		msg, err := peerwire.ParseMetadata(m)
		if errors.Is(err, peerwire.ErrUnknownMetadataType) {
			return nil // BEP 9: ignore
		}
		if err != nil {
			return c.countBad(metadataMalformed)
		}
		req, ok := msg.(*peerwire.MetadataRequest)
		if !ok || c.peerMetadataID == 0 {
			return nil // data or reject: we never ask
		}
		return c.sendMetadata(req.Piece)
	}
	return nil
}

// sendMetadata queues one piece of the info dictionary, or a reject for a
// piece that does not exist.
func (c *Conn) sendMetadata(piece uint32) error {
	md := c.t.Metadata
	off := int64(piece) * peerwire.MetadataPieceSize
	c.mu.Lock()
	full := c.outFull()
	c.mu.Unlock()
	if full {
		return errNotReading
	}
	if off >= int64(len(md)) {
		c.mu.Lock()
		c.out = peerwire.MetadataReject{ExtID: c.peerMetadataID, Piece: piece}.AppendTo(c.out)
		c.signal()
		c.mu.Unlock()
		return c.countBad(metadataRange)
	}
	end := min(off+peerwire.MetadataPieceSize, int64(len(md)))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = peerwire.MetadataData{ExtID: c.peerMetadataID, Piece: piece, TotalSize: len(md), Data: md[off:end]}.AppendTo(c.out)
	c.signal()
	return nil
}

// countBad counts a bad message that is not a block request, and ends the
// connection past MaxBadRequests, saying why in the error.
func (c *Conn) countBad(why badRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bad++
	if c.bad == 1 || c.bad%50 == 0 {
		c.log.debug("bad request", "why", string(why), "count", c.bad)
	}
	if c.bad > c.cfg.MaxBadRequests {
		return fmt.Errorf("%w (%d, last: %s)", errTooManyBad, c.bad, why)
	}
	return nil
}
