package peer

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/ratelimit"
	"github.com/bitorigin/bitorigin/seeder/dhtnode"
	"github.com/bitorigin/bitorigin/seeder/pieces"
	"github.com/bitorigin/bitorigin/seeder/storage"
)

// Config is what every connection of a seeder shares. The seeder fills
// every field; nothing has a default here.
type Config struct {
	// PeerID is ours; Client our name and version in the extension
	// handshake (BEP 10's v).
	PeerID [20]byte
	Client string
	// ListenPort is the port peers should reach us on. It must take no
	// lock that is held while a connection's is taken.
	ListenPort func() uint16
	// DHT, when set, is our DHT node: our handshake sets the DHT bit and
	// a peer that sets it too gets a port message (BEP 5).
	DHT *dhtnode.Node
	// MaxRequest is the largest block served, ReqQ the requests a peer
	// may have queued, MaxBadRequests the bad ones it may send.
	MaxRequest, ReqQ, MaxBadRequests int
	// HandshakeTimeout bounds the handshake, IdleTimeout the silence of a
	// peer, WriteTimeout one write; KeepAlive is how long our side may
	// stay silent.
	HandshakeTimeout, IdleTimeout, WriteTimeout, KeepAlive time.Duration
	// Encryption is the MSE policy; SKeys finds the info hash of an
	// encrypted handshake's HASH('req2', info hash).
	Encryption Encryption
	SKeys      func(req2 [20]byte) ([20]byte, bool)
	// Limiter, when set, bounds the upload of every connection together.
	Limiter *ratelimit.Bucket
	// Uplink, when set, counts the busy connections (Conn.Busy).
	Uplink *Uplink
	// Metrics, when set, counts requests and disk reads.
	Metrics *Metrics
	Logger  *slog.Logger
}

// Torrent is a torrent as its connections see it: the data and pieces
// they serve, and the functions by which they tell its swarm what their
// peers do. The seeder builds one per torrent served. The functions run
// on a connection's reader goroutine, but Have, which the writer also
// calls for a piece sent whole under offload; none is called with the
// connection's lock held.
type Torrent struct {
	Name string
	// Pieces is the number of pieces; PieceLen the length of each but the
	// last, LastLen.
	Pieces            uint32
	PieceLen, LastLen uint32
	// Metadata is the info dictionary, for ut_metadata (BEP 9).
	Metadata []byte
	// Trees are the merkle trees above the piece layers of a v2 or hybrid
	// torrent's files, by pieces root, for BEP 52 hash requests; V2 says
	// the torrent has v2 hashes. Private keeps it off the DHT (BEP 27).
	Trees       map[metainfo.Hash256]*metainfo.PieceTree
	V2, Private bool
	// Loaded are the pieces verified at load, which the bitfield a peer
	// got may hold; Served those served now.
	Loaded *bitfield.Bitfield
	Served *pieces.Set
	// Storage reads the data; Uploaded counts the block bytes sent.
	Storage  *storage.Storage
	Uploaded *atomic.Int64
	// Invalidate stops serving the pieces of n bytes at off, which could
	// not be read for the reason why.
	Invalidate func(off, n int64, why string)
	// Offload says the torrent's offload policy decides which pieces each
	// peer may request (Conn.Offer); Pex that peers exchange addresses
	// (ut_pex).
	Offload, Pex bool

	// Register admits a connection past its handshake and names it, or
	// refuses it with an error; Started follows once our introduction is
	// queued, Closed once the connection is closed and its writer done.
	Register func(*Conn) (id uint64, err error)
	Started  func(*Conn)
	Closed   func(*Conn)
	// Interest tells of a change of the peer's interest (Conn.Interested),
	// paced (see InterestInterval).
	Interest func(*Conn)
	// Extensions tells what the peer's extension handshake says: its
	// listening port (0 if none) and the ID it gave ut_pex (0 if none).
	Extensions func(c *Conn, port uint16, pexID uint8)
	// Bitfield and Have, called under offload only, tell the pieces the
	// peer has: its bitfield (nil for have none) and each piece it gains
	// or was sent whole.
	Bitfield func(*Conn, *bitfield.Bitfield)
	Have     func(*Conn, uint32)
}

// pieceSize is the length of piece i, which must be in range.
func (t *Torrent) pieceSize(i uint32) uint32 {
	if i == t.Pieces-1 {
		return t.LastLen
	}
	return t.PieceLen
}

// complete reports whether every piece is served.
func (t *Torrent) complete() bool { return t.Served.Len() == t.Pieces }
