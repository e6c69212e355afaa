// Package swarmload measures a seeder: many simulated leechers connect to
// it over the peer wire protocol (BEP 3, with BEP 6 rejects and BEP 10
// extension handshakes), each downloads every piece of one torrent and
// checks it against its SHA-1, and the run reports the aggregate rate,
// each leecher's time to complete, rejected requests and errors.
//
// The leechers keep the data in memory only, a piece at a time, so a run
// needs no disk; the seeder's address is given or asked of the torrent's
// HTTP trackers, and a magnet link is enough: the info dictionary is then
// fetched from the seeder (BEP 9).
//
// With Config.Trade the leechers also trade among themselves, as real
// clients do, which is what an origin that offloads to its swarm needs to
// be measured: each listens on loopback, connects to a few others, serves
// what it verified within its own upload cap and asks whichever peer has
// a piece; the report then splits what was received between the seeder
// and the other leechers and gives the origin's share in copies.
package swarmload
