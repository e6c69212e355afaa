// Package metainfo reads and writes BitTorrent v1 metainfo (.torrent files,
// BEP 3) and magnet links (BEP 9), creates torrents from files on disk, and
// verifies data on disk against a torrent.
//
// Parsing is strict and bounded: it takes bytes, never a stream, so every
// bencode limit can be set from the input's size, and it rejects layouts that
// would let a torrent write outside its folder or describe data that cannot
// exist. The info hash is always the SHA-1 of the info dictionary's bytes as
// they appear in the input.
//
// Creating and verifying read files and hash pieces on every core; neither
// knows about terminals, and both report progress through a callback.
package metainfo
