package peer

import (
	"errors"

	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
)

// onHashRequest answers a BEP 52 hash request from the piece trees of a v2
// or hybrid torrent: a v2 peer that joined by magnet link has only the
// info dictionary, and needs the piece layers to check what it downloads.
// Layers below the piece layer (block hashes, which only the data holds),
// unknown files and requests breaking BEP 52's rules get a hash reject;
// the last two count as bad requests. An answer holds at most
// metainfo.MaxHashRequest hashes and a proof, so a request costs bounded
// work and bytes, and a peer that asks without reading is dropped like
// one that does so for blocks (maxOut).
func (c *Conn) onHashRequest(m *peerwire.HashRequest) error {
	var hashes []metainfo.Hash256
	err := errNoSuchFile
	if tree := c.t.Trees[metainfo.Hash256(m.PiecesRoot)]; tree != nil {
		hashes, err = tree.Hashes(m.BaseLayer, m.Index, m.Length, m.ProofLayers)
	}
	c.mu.Lock()
	if c.outFull() {
		c.mu.Unlock()
		return errNotReading
	}
	if err != nil {
		c.out = peerwire.HashReject(*m).AppendTo(c.out)
	} else {
		b := make([]byte, 0, len(hashes)*metainfo.HashSizeV2)
		for _, h := range hashes {
			b = append(b, h[:]...)
		}
		c.out = peerwire.Hashes{HashRange: peerwire.HashRange(*m), Hashes: b}.AppendTo(c.out)
	}
	c.signal()
	c.mu.Unlock()
	c.cfg.Metrics.hashRequest(err == nil)
	if err != nil && !errors.Is(err, metainfo.ErrBelowPieceLayer) {
		c.log.debug("bad hash request", "err", err, "base", m.BaseLayer, "index", m.Index, "length", m.Length,
			"proof_layers", m.ProofLayers)
		return c.countBad(hashRequestBad)
	}
	return nil
}

// errNoSuchFile is why a hash request naming no file of ours is rejected.
var errNoSuchFile = errors.New("no file with that pieces root")
