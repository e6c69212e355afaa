// Package peerwire reads and writes the BitTorrent peer wire protocol: the
// handshake and messages of BEP 3, the Fast extension (BEP 6), the
// extension protocol (BEP 10) and metadata exchange (BEP 9).
//
// It is a pure codec: it reads from an io.Reader and writes to an
// io.Writer and knows nothing of connections, deadlines or torrents beyond
// the limits it is given. Every length a peer sends is checked against a
// per-message maximum before anything is allocated for it.
//
// A connection starts with ReadHandshake (or ReadHandshakeStart and
// ReadPeerID, when the info hash must be looked up first) and the writing of
// a Handshake; after that a Reader returns one Message at a time and a Writer
// batches messages until Flush.
package peerwire
