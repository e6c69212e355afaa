#!/usr/bin/env bash
# `make run`: starts the tracker (in-memory store) and a seeder of a
# generated sample folder, then prints the one command with which a standard
# client (aria2c) downloads the sample. Ctrl-C stops both (the seeder sends
# its stopped announces first).
#
# Ports: TRACKER_PORT (default 6969) for announce and scrape, ADMIN_PORT
# (6970) for the tracker's probes, SEEDER_PORT (6881) for peers and
# SEEDER_ADMIN_PORT (6882) for the seeder's probes and /torrents. The sample
# data, torrents and logs live in RUN_DIR (default: /tmp/bitorigin-run), kept
# between runs so a restart skips hashing.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
tracker_port=${TRACKER_PORT:-6969}
admin_port=${ADMIN_PORT:-6970}
seeder_port=${SEEDER_PORT:-6881}
seeder_admin=${SEEDER_ADMIN_PORT:-6882}
dir=${RUN_DIR:-${TMPDIR:-/tmp}/bitorigin-run}

for port in "$tracker_port" "$admin_port" "$seeder_port" "$seeder_admin"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "run: port $port is in use; set TRACKER_PORT, ADMIN_PORT, SEEDER_PORT or SEEDER_ADMIN_PORT to free ones" >&2
		exit 1
	fi
done

# The sample: one file of random data and a small folder, sizes that are not
# multiples of any piece length. Generated once, never checked in.
data="$dir/data"
mkdir -p "$data/sample-folder/docs" "$dir/torrents"
if [ ! -f "$data/sample-40MiB.bin" ]; then
	echo "Generating sample data in $data ..."
	head -c $((40 * 1024 * 1024 + 12345)) /dev/urandom >"$data/sample-40MiB.bin.tmp"
	mv "$data/sample-40MiB.bin.tmp" "$data/sample-40MiB.bin"
	head -c $((3 * 1024 * 1024 + 7)) /dev/urandom >"$data/sample-folder/video.bin"
	head -c 70001 /dev/urandom >"$data/sample-folder/docs/manual.bin"
	echo "A sample folder served by bitorigin." >"$data/sample-folder/README.txt"
fi

pids=()
cleanup() {
	trap - EXIT INT TERM
	# The seeder first, so that its stopped announces reach the tracker.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM

wait_ready() { # URL NAME LOG
	for _ in $(seq 600); do
		if (exec 3<>"/dev/tcp/127.0.0.1/${1##*:}") 2>/dev/null &&
			{ exec 4<>"/dev/tcp/127.0.0.1/${1##*:}" && printf 'GET /readyz HTTP/1.0\r\n\r\n' >&4 && grep -q '200 OK' <&4; } 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	echo "run: $2 did not become ready; its log ($3):" >&2
	tail -20 "$3" >&2
	return 1
}

announce="http://127.0.0.1:${tracker_port}/announce"
# A short interval, so the seeder learns of new leechers (and dials them)
# within a minute. setsid keeps Ctrl-C from reaching the tracker directly:
# cleanup stops it after the seeder's stopped announces.
setsid "$bin/tracker" --http-addr ":${tracker_port}" --admin-addr "127.0.0.1:${admin_port}" \
	--interval 1m --min-interval 10s >"$dir/tracker.log" 2>&1 &
pids+=($!)
wait_ready "127.0.0.1:${admin_port}" tracker "$dir/tracker.log"

echo "Starting the seeder (verifying the sample; log: $dir/seeder.log) ..."
"$bin/seeder" serve --data "$data" --torrents "$dir/torrents" --tracker "$announce" \
	--listen ":${seeder_port}" --admin-addr "127.0.0.1:${seeder_admin}" \
	>"$dir/seeder.out" 2>"$dir/seeder.log" &
pids+=($!)
wait_ready "127.0.0.1:${seeder_admin}" seeder "$dir/seeder.log"

cat <<EOT

Tracker:  announce ${announce}  probes http://127.0.0.1:${admin_port}/readyz  (log $dir/tracker.log)
Seeder:   peers on :${seeder_port}  status http://127.0.0.1:${seeder_admin}/torrents  (log $dir/seeder.log)

Torrents served:
$(sed 's/^/  /' "$dir/seeder.out")

Download the sample with a standard client, for example:

  aria2c --dir=./downloads --seed-time=0 --enable-dht=false --bt-enable-lpd=false --enable-peer-exchange=false $dir/torrents/sample-40MiB.bin.torrent

Ctrl-C stops the seeder and the tracker.
EOT
wait "${pids[1]}"
