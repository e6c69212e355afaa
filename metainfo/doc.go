// Package metainfo reads and writes BitTorrent metainfo (.torrent files) of
// v1 (BEP 3), v2 (BEP 52) and hybrid torrents, and magnet links (BEP 9),
// creates torrents from files on disk, and verifies data on disk against a
// torrent.
//
// Parsing is strict and bounded: it takes bytes, never a stream, so every
// bencode limit can be set from the input's size, and it rejects layouts that
// would let a torrent write outside its folder or describe data that cannot
// exist. A v2 torrent's piece layers must lead to its files' merkle roots,
// and a hybrid torrent's v1 files must describe the same pieces as its file
// tree. The info hashes are always over the info dictionary's bytes as they
// appear in the input: SHA-1 for v1, SHA-256 for v2.
//
// Creating and verifying read files and hash pieces on every core; neither
// knows about terminals, and both report progress through a callback.
package metainfo
