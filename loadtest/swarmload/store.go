package swarmload

import "sync/atomic"

// pieceStore holds one verified copy of each piece for every trading
// leecher of a run. Each leecher checks each piece it assembles against
// its SHA-1 as before, so the copies of a piece that pass are identical:
// the first one kept serves every leecher's uploads, and a run of hundreds
// of leechers holds the torrent in memory once, not once per leecher.
type pieceStore struct {
	pieces []atomic.Pointer[[]byte]
}

func newPieceStore(numPieces uint32) *pieceStore {
	return &pieceStore{pieces: make([]atomic.Pointer[[]byte], numPieces)}
}

// keep offers buf, a verified piece i, and reports whether the store kept
// it; if not, another leecher's copy is already there and buf is free.
func (s *pieceStore) keep(i uint32, buf []byte) bool {
	return s.pieces[i].CompareAndSwap(nil, &buf)
}

// piece returns the data of piece i, nil when no leecher verified it.
func (s *pieceStore) piece(i uint32) []byte {
	if p := s.pieces[i].Load(); p != nil {
		return *p
	}
	return nil
}
