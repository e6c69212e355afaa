#!/usr/bin/env bash
# `make run`: starts the tracker (in-memory store) in the foreground and says
# how to use it. Ctrl-C stops it. Ports: TRACKER_PORT (default 6969) for
# announce and scrape on every address, ADMIN_PORT (default 6970) for the
# probes on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
tracker_port=${TRACKER_PORT:-6969}
admin_port=${ADMIN_PORT:-6970}

for port in "$tracker_port" "$admin_port"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "run: port $port is in use; set TRACKER_PORT / ADMIN_PORT to free ones" >&2
		exit 1
	fi
done

cat <<EOT
Tracker starting:
  announce  http://127.0.0.1:${tracker_port}/announce   (also http://[::1]:${tracker_port}/announce)
  scrape    http://127.0.0.1:${tracker_port}/scrape?info_hash=...
  probes    http://127.0.0.1:${admin_port}/healthz  http://127.0.0.1:${admin_port}/readyz

Put http://127.0.0.1:${tracker_port}/announce in a torrent as its tracker, for example
  mktorrent -a http://127.0.0.1:${tracker_port}/announce -o my.torrent FILE
and any BitTorrent client (aria2c my.torrent, transmission-cli my.torrent) announces here.
Ctrl-C stops the tracker.

EOT
exec "$bin/tracker" --http-addr ":${tracker_port}" --admin-addr "127.0.0.1:${admin_port}"
