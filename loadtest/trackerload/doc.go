// Package trackerload drives a BitTorrent tracker with announces and
// scrapes from simulated peers, over HTTP (BEP 3, BEP 23, BEP 48) or UDP
// (BEP 15), and reports the rate it achieved and the latency it saw.
//
// Three ways to pace the load:
//   - open loop (Config.Rate): requests are due at fixed times whether or not
//     earlier ones returned; latency is measured from the time a request was
//     due, so a stalled tracker shows up in the percentiles instead of
//     silently slowing the generator down (no coordinated omission);
//   - closed loop (Config.Workers): each worker sends its next request when
//     the last one returned, to find the tracker's ceiling;
//   - realistic (Config.Realistic): every peer announces again after the
//     interval the tracker gave it, scaled by Config.IntervalScale.
//
// Simulated peers keep their peer ID, port, key and progress across
// announces, belong to torrents whose popularity is skewed (Zipf or Gamma),
// and go through started, regular, completed and stopped announces.
package trackerload
