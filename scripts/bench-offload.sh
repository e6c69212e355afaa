#!/usr/bin/env bash
# `make bench-offload`: how much of a release leaves the origin. LEECHERS
# (default 12) libtorrent leechers start together and fetch one SIZE_MIB
# (default 64) MiB file with 256 KiB pieces, finding each other and the
# seeder through our tracker; the seeder's upload is capped at RATE (default
# 8000000) bytes per second, the leechers are not. Seeders, interleaved in
# each of RUNS (default 3) rounds: ours (--offload auto), ours with
# --offload off, libtorrent seeding plainly, libtorrent super-seeding
# (BEP 16); SEEDERS picks a subset. Every copy's SHA-256 is checked.
#
# Prints, per run, the origin's upload divided by the payload size and the
# seconds until every leecher had every piece; then the medians, and the
# verdict of the goal set for this swarm: for 12 leechers of 64 MiB, at most
# 1.1x the payload, done within 1.5x payload/rate; for one or two leechers,
# never slower than plain serving (ours --offload off, in SEEDERS). Other
# swarms have no goal: their numbers are printed beside the big swarm's.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
size_mib=${SIZE_MIB:-64}
leechers=${LEECHERS:-12}
rate=${RATE:-8000000}
runs=${RUNS:-3}
seeders=${SEEDERS:-ours ours-off lt-plain lt-super}
py=/usr/bin/python3
client=e2e/testdata/lt_client.py

if ! "$py" -c 'import libtorrent' 2>/dev/null; then
	echo "bench-offload: python3-libtorrent is missing: run scripts/install-test-deps.sh" >&2
	exit 1
fi

work=$(mktemp -d)
out_base=${BENCH_DIR:-}
if [ -z "$out_base" ] && [ -d /dev/shm ]; then out_base=/dev/shm; fi
out=$(mktemp -d "${out_base:-/tmp}/bench-offload-out.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work" "$out"
}
trap cleanup EXIT

calc() { "$py" -c "print($1)"; }

# shellcheck source=lib.sh
. scripts/lib.sh

# wait_seeded: until our tracker counts one seeder of the torrent.
wait_seeded() {
	"$py" - "$torrent" "$tracker_port" <<'EOF'
import sys, time, urllib.parse, urllib.request
import libtorrent as lt
ih = lt.torrent_info(sys.argv[1]).info_hash().to_bytes()
url = "http://127.0.0.1:%s/scrape?info_hash=%s" % (sys.argv[2], urllib.parse.quote(ih))
for _ in range(600):
    if b"8:completei1e" in urllib.request.urlopen(url, timeout=2).read():
        sys.exit(0)
    time.sleep(0.1)
sys.exit("bench-offload: the seeder never announced")
EOF
}

mkdir -p "$work/data" "$work/torrents"
echo "Generating ${size_mib} MiB of random data ..."
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/data/offload.bin"
torrent="$work/torrents/offload.bin.torrent"
tracker_port=$(free_port)
announce="http://127.0.0.1:$tracker_port/announce"
"$bin/seeder" create "$work/data/offload.bin" -t "$announce" --piece-length 256K -o "$torrent" >/dev/null

start_tracker() {
	local admin
	admin=$(free_port)
	"$bin/tracker" --http-addr "127.0.0.1:$tracker_port" --udp-addr "127.0.0.1:$tracker_port" --admin-addr "127.0.0.1:$admin" \
		--interval 5s --min-interval 1s --log-level warn >"$work/tracker.log" 2>&1 &
	tracker_pid=$!
	pids+=($tracker_pid)
	wait_ready "$admin" tracker "$work/tracker.log"
}

# run SEEDER: one round; prints "RATIO SECONDS".
run() {
	local kind=$1 port admin spid uploaded took
	rm -rf "${out:?}"/*
	start_tracker
	port=$(free_port)
	case $kind in
	ours | ours-off)
		admin=$(free_port)
		local mode=auto
		[ "$kind" = ours-off ] && mode=off
		"$bin/seeder" serve --data "$work/data" --torrents "$work/torrents" --tracker "$announce" \
			--listen "127.0.0.1:$port" --admin-addr "127.0.0.1:$admin" --upload-rate "$rate" --offload "$mode" \
			--log-level warn >"$work/seeder.out" 2>"$work/seeder.log" &
		spid=$!
		pids+=($spid)
		wait_ready "$admin" seeder "$work/seeder.log"
		;;
	lt-plain | lt-super)
		"$py" "$client" capped "$torrent" "$work/data" "$port" "$rate" "${kind#lt-}" >"$work/lt-seeder.log" 2>&1 &
		spid=$!
		pids+=($spid)
		for _ in $(seq 1200); do
			grep -q SEEDING "$work/lt-seeder.log" && break
			sleep 0.1
		done
		;;
	esac
	wait_seeded
	if ! "$py" "$client" swarm "$out" "$leechers" 600 "$torrent" "$work/data/offload.bin" >"$work/swarm.log" 2>&1; then
		echo "bench-offload: the swarm failed ($kind):" >&2
		tail -20 "$work/swarm.log" >&2
		exit 1
	fi
	took=$(awk '/^DONE/ {print $2}' "$work/swarm.log")
	case $kind in
	ours | ours-off)
		uploaded=$("$py" -c "import json,urllib.request as u; print(json.load(u.urlopen('http://127.0.0.1:$admin/torrents'))[0]['uploaded'])")
		kill -TERM "$spid"
		wait "$spid" || true
		;;
	lt-*)
		kill -TERM "$spid"
		wait "$spid" || true
		uploaded=$(awk '/^UPLOADED/ {print $2}' "$work/lt-seeder.log")
		;;
	esac
	kill -TERM "$tracker_pid"
	wait "$tracker_pid" || true
	echo "$(calc "$uploaded / ($size_mib * 1048576)") $took"
}

ideal=$(calc "$size_mib * 1048576 / $rate")
echo "$leechers libtorrent leechers, ${size_mib} MiB in 256 KiB pieces, origin capped at $rate B/s (payload/cap = $(printf %.1f "$ideal") s), $runs rounds"
declare -A ratios times
for ((r = 1; r <= runs; r++)); do
	for kind in $seeders; do
		read -r ratio took < <(run "$kind")
		printf '  round %d  %-9s origin uploaded %5.2fx the payload, every leecher done in %6.2f s\n' "$r" "$kind" "$ratio" "$took"
		ratios[$kind]+="$ratio "
		times[$kind]+="$took "
	done
done
median() { "$py" -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
echo "Medians:"
for kind in $seeders; do
	# shellcheck disable=SC2086
	mr=$(median ${ratios[$kind]})
	# shellcheck disable=SC2086
	mt=$(median ${times[$kind]})
	printf '  %-9s %5.2fx the payload, %6.2f s (%.2fx payload/cap)\n' "$kind" "$mr" "$mt" "$(calc "$mt / $ideal")"
	declare "med_ratio_${kind//-/_}=$mr" "med_time_${kind//-/_}=$mt"
done
if [[ " $seeders " == *" ours "* ]]; then
	verdict() { if [ "$(calc "$1")" = True ]; then echo met; else echo "NOT MET"; fi; }
	big="at most 1.1x the payload: $(verdict "$med_ratio_ours <= 1.1") ($(printf %.2f "$med_ratio_ours")x);"
	big+=" done within 1.5x payload/cap: $(verdict "$med_time_ours <= 1.5 * $ideal") ($(printf %.2f "$(calc "$med_time_ours / $ideal")")x)"
	if [ "$leechers" = 12 ] && [ "$size_mib" = 64 ]; then
		echo "Goal for 12 leechers of 64 MiB, ours: $big"
	else
		echo "The goal for 12 leechers of 64 MiB, not this swarm ($leechers leechers, $size_mib MiB), would read: $big"
	fi
	if [[ " $seeders " == *" ours-off "* ]]; then
		echo "  against plain serving (ours --offload off): time $(printf %.2f "$(calc "$med_time_ours / $med_time_ours_off")")x," \
			"upload $(printf %.2f "$(calc "$med_ratio_ours / $med_ratio_ours_off")")x"
		if [ "$leechers" -le 2 ]; then
			echo "Goal for $leechers leecher(s), ours never slower than plain serving (median time): $(verdict "$med_time_ours <= $med_time_ours_off")"
		fi
	fi
fi
