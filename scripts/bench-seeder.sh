#!/usr/bin/env bash
# `make bench-seeder`: 4 libtorrent leechers download one 1 GiB file on
# loopback, first from our seeder, then from a libtorrent seeder (Debian's
# python3-libtorrent), each time through our tracker. Prints both times,
# their ratio and our seeder's peak RSS.
#
# SIZE_MIB (default 1024) sets the file size, LEECHERS (default 4) the
# leecher count, LT_LEECHERS (default 50) the simulated leechers of the
# `loadtest swarm` row run against our seeder. Leechers write to BENCH_DIR (default /dev/shm when present),
# so that the disk does not decide the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
size_mib=${SIZE_MIB:-1024}
leechers=${LEECHERS:-4}
py=/usr/bin/python3
client=e2e/testdata/lt_client.py

if ! "$py" -c 'import libtorrent' 2>/dev/null; then
	echo "bench-seeder: python3-libtorrent is missing: run scripts/install-test-deps.sh" >&2
	exit 1
fi

work=$(mktemp -d)
out_base=${BENCH_DIR:-}
if [ -z "$out_base" ] && [ -d /dev/shm ]; then out_base=/dev/shm; fi
out=$(mktemp -d "${out_base:-/tmp}/bench-seeder-out.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work" "$out"
}
trap cleanup EXIT

# shellcheck source=lib.sh
. scripts/lib.sh

now() { date +%s.%N; }
calc() { "$py" -c "print($1)"; }

# leech PHASE: runs the leechers at once and prints the seconds until the
# last one has every piece.
leech() {
	local start lp=() i
	rm -rf "${out:?}"/*
	start=$(now)
	for ((i = 0; i < leechers; i++)); do
		"$py" "$client" fetchmany "$out/$1-$i" "$(free_port)" 600 - "$torrent" >"$work/$1-leecher-$i.log" 2>&1 &
		lp+=($!)
	done
	for p in "${lp[@]}"; do
		if ! wait "$p"; then
			echo "bench-seeder: a leecher failed ($1):" >&2
			tail -5 "$work"/"$1"-leecher-*.log >&2
			exit 1
		fi
	done
	calc "$(now) - $start"
}

mkdir -p "$work/data" "$work/torrents"
echo "Generating ${size_mib} MiB of random data ..."
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/data/bench.bin"

tracker_port=$(free_port)
tracker_admin=$(free_port)
"$bin/tracker" --http-addr "127.0.0.1:$tracker_port" --udp-addr "127.0.0.1:$tracker_port" --admin-addr "127.0.0.1:$tracker_admin" \
	--interval 5s --min-interval 1s --log-level warn >"$work/tracker.log" 2>&1 &
pids+=($!)
wait_ready "$tracker_admin" tracker "$work/tracker.log"
announce="http://127.0.0.1:$tracker_port/announce"

seeder_port=$(free_port)
seeder_admin=$(free_port)
"$bin/seeder" serve --data "$work/data" --torrents "$work/torrents" --tracker "$announce" \
	--listen "127.0.0.1:$seeder_port" --admin-addr "127.0.0.1:$seeder_admin" --log-level warn \
	>"$work/seeder.out" 2>"$work/seeder.log" &
seeder_pid=$!
pids+=($seeder_pid)
echo "Our seeder is hashing the data ..."
wait_ready "$seeder_admin" seeder "$work/seeder.log"
torrent="$work/torrents/bench.bin.torrent"
sleep 1 # its started announce

echo "$leechers leechers downloading from our seeder ..."
ours=$(leech ours)
echo "${LT_LEECHERS:-50} simulated leechers (loadtest swarm) downloading from our seeder ..."
# Leechers beyond the upload slots wait choked until the round-robin
# reaches them, so they get a generous idle time-out; a failed run is
# reported, not fatal, so the libtorrent comparison still runs.
"$bin/loadtest" swarm --torrent "$torrent" --seeder "127.0.0.1:$seeder_port" --leechers "${LT_LEECHERS:-50}" \
	--idle-timeout 5m --timeout 15m --quiet --json >"$work/loadtest-swarm.json" 2>"$work/loadtest-swarm.err" || true
swarm_row=$("$py" -c 'import json,sys; r=json.load(open(sys.argv[1])); t=r["time_to_complete"]; print("%d leechers: %.0f MB/s in all, complete p50 %.1f s, p90 %.1f s, max %.1f s, rejected %d, failed %d" % (r["leechers"], r["mb_per_s"], t["p50_ms"]/1e3, t["p90_ms"]/1e3, t["max_ms"]/1e3, r["rejected"], r["failed"]))' "$work/loadtest-swarm.json" 2>/dev/null ||
	echo "no report: $(tail -3 "$work/loadtest-swarm.err" | tr '\n' ' ')")
rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$seeder_pid/status")
kill -TERM "$seeder_pid"
wait "$seeder_pid" || true

lt_port=$(free_port)
"$py" "$client" seed "$torrent" "$work/data" "$lt_port" >"$work/lt-seeder.log" 2>&1 &
pids+=($!)
echo "libtorrent seeder checking the data ..."
for _ in $(seq 1200); do
	grep -q SEEDING "$work/lt-seeder.log" && break
	sleep 0.1
done
grep -q SEEDING "$work/lt-seeder.log" || { echo "bench-seeder: libtorrent seeder never started" >&2; exit 1; }
sleep 2 # its announce
echo "$leechers leechers downloading from the libtorrent seeder ..."
theirs=$(leech libtorrent)

printf '\n%-22s %8.1f s  (%6.1f MiB/s per leecher)\n' "bitorigin seeder" "$ours" "$(calc "$size_mib / $ours")"
printf '%-22s %8.1f s  (%6.1f MiB/s per leecher)\n' "libtorrent seeder" "$theirs" "$(calc "$size_mib / $theirs")"
printf '%-22s %8.2f   (libtorrent time / ours; above 1 means ours is faster)\n' "ratio" "$(calc "$theirs / $ours")"
printf '%-22s %8.1f MiB\n' "our peak RSS" "$(calc "$rss_kib / 1024")"
printf '%-22s %s\n' "loadtest swarm" "$swarm_row"
