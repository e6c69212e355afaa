// Package loadtest holds what the load generators share: a latency
// histogram that many goroutines record into, the percentile summary every
// report prints, and the progress line drawn on a terminal.
//
// The generators themselves live in sub-packages: trackerload drives a
// tracker with announces and scrapes (HTTP or UDP), swarmload runs
// simulated leechers against a seeder over the peer wire protocol.
package loadtest
