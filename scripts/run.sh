#!/usr/bin/env bash
# `make run`: starts the tracker (in-memory store) and a seeder of a
# generated sample folder, then prints the one command with which a standard
# client (aria2c) downloads the sample. Ctrl-C stops both (the seeder sends
# its stopped announces first).
#
# Ports: TRACKER_PORT (default 6969) for announce and scrape, over HTTP (TCP)
# and UDP, ADMIN_PORT (6970) for the tracker's probes, SEEDER_PORT (6881) for
# peers (TCP) and the seeder's DHT node (UDP; no bootstrap node is named, so
# it contacts nobody) and SEEDER_ADMIN_PORT (6882) for the seeder's probes
# and /torrents.
# Each is checked before anything starts. The sample data, torrents and logs
# live in RUN_DIR (default: /tmp/bitorigin-run), kept between runs so a
# restart skips hashing.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
tracker_port=${TRACKER_PORT:-6969}
admin_port=${ADMIN_PORT:-6970}
seeder_port=${SEEDER_PORT:-6881}
seeder_admin=${SEEDER_ADMIN_PORT:-6882}
dir=${RUN_DIR:-${TMPDIR:-/tmp}/bitorigin-run}

# port_in_use PROTO PORT: whether a socket on this machine holds PORT: a TCP
# listener, or any UDP socket, on any address. /proc/net shows sockets bound to
# every address, which a connect to 127.0.0.1 would miss (and UDP has no
# connect to try); without it, TCP is tried by connecting and UDP is left to
# the tracker, whose failure to start is then reported at once.
port_in_use() {
	local proto=$1 port=$2 files=()
	for f in "/proc/net/$proto" "/proc/net/${proto}6"; do
		[ -r "$f" ] && files+=("$f")
	done
	if [ ${#files[@]} -eq 0 ]; then
		[ "$proto" = tcp ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
		return
	fi
	# Column 2 is ADDR:PORT in hex, column 4 the state (0A: TCP listening).
	awk -v port="$(printf ':%04X' "$port")" -v proto="$proto" '
		FNR > 1 && substr($2, length($2) - 4) == port && (proto == "udp" || $4 == "0A") { found = 1 }
		END { exit !found }' "${files[@]}"
}

# check_free PROTO PORT VARIABLE WHAT: stop before starting anything when a
# port is taken, naming it and the variable that moves it.
check_free() {
	if port_in_use "$1" "$2"; then
		echo "run: ${1^^} port $2 ($4) is in use, perhaps by another tracker or seeder; set $3 to a free port" >&2
		exit 1
	fi
}
check_free tcp "$tracker_port" TRACKER_PORT "tracker HTTP announce"
check_free udp "$tracker_port" TRACKER_PORT "tracker UDP announce"
check_free tcp "$admin_port" ADMIN_PORT "tracker probes"
check_free tcp "$seeder_port" SEEDER_PORT "seeder peers"
check_free udp "$seeder_port" SEEDER_PORT "seeder DHT node"
check_free tcp "$seeder_admin" SEEDER_ADMIN_PORT "seeder probes"

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

# wait_ready PORT NAME LOG PID: wait for /readyz on 127.0.0.1:PORT. A program
# that exits meanwhile (a port taken since the check, a bad flag) is reported
# at once with the end of its log.
wait_ready() {
	local status
	for _ in $(seq 600); do
		if ! kill -0 "$4" 2>/dev/null; then
			status=0
			wait "$4" || status=$?
			echo "run: $2 exited (status $status) before it was ready; the end of its log ($3):" >&2
			tail -20 "$3" >&2
			exit $((status == 0 ? 1 : status))
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null &&
			{ exec 4<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /readyz HTTP/1.0\r\n\r\n' >&4 && grep -q '200 OK' <&4; } 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	echo "run: $2 did not become ready in two minutes; the end of its log ($3):" >&2
	tail -20 "$3" >&2
	exit 1
}

announce="http://127.0.0.1:${tracker_port}/announce"
# A short interval, so the seeder learns of new leechers (and dials them)
# within a minute. setsid keeps Ctrl-C from reaching the tracker directly:
# cleanup stops it after the seeder's stopped announces.
setsid "$bin/tracker" --http-addr ":${tracker_port}" --udp-addr ":${tracker_port}" \
	--admin-addr "127.0.0.1:${admin_port}" \
	--interval 1m --min-interval 10s >"$dir/tracker.log" 2>&1 &
pids+=($!)
wait_ready "$admin_port" tracker "$dir/tracker.log" "${pids[-1]}"

echo "Starting the seeder (verifying the sample; log: $dir/seeder.log) ..."
"$bin/seeder" serve --data "$data" --torrents "$dir/torrents" --tracker "$announce" \
	--listen ":${seeder_port}" --admin-addr "127.0.0.1:${seeder_admin}" \
	>"$dir/seeder.out" 2>"$dir/seeder.log" &
pids+=($!)
wait_ready "$seeder_admin" seeder "$dir/seeder.log" "${pids[-1]}"

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
