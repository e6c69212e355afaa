#!/usr/bin/env bash
# scripts/ab-tracker.sh A B: two tracker builds side by side, for a change
# whose effect is smaller than the noise between runs. STORE=redis (the
# default) gives each binary its own redis-server, STORE=memory runs them
# with the memory store. Two wrk processes load both at the same time
# (CONNS connections each, default 32; MODE keepalive or close), so both
# see the same machine; then the run is repeated with the two swapped in the
# order they start. ROUNDS (default 3) pairs of such runs. Prints, per run
# and binary, announces/s, the CPU the tracker (and its redis-server) spent
# per announce (µs), and the announces per read Redis did (its batch size).
#
#   git stash; make build; cp bin/tracker /tmp/tracker-a; git stash pop
#   make build; scripts/ab-tracker.sh /tmp/tracker-a bin/tracker
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
	echo "usage: scripts/ab-tracker.sh TRACKER_A TRACKER_B (two executable tracker binaries)" >&2
	exit 2
fi
mode=${MODE:-keepalive}
store=${STORE:-redis}
case $store in
redis | memory) ;;
*)
	echo "ab-tracker: STORE=$store: want redis or memory" >&2
	exit 2
	;;
esac
conns=${CONNS:-32}
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}
for cmd in wrk $([ "$store" = redis ] && echo redis-server redis-cli); do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "ab-tracker: $cmd is missing: run scripts/install-test-deps.sh" >&2
		exit 1
	fi
done

# shellcheck source=lib.sh
. scripts/lib.sh
work_dir
hz=$(getconf CLK_TCK)

# The announces of bench-tracker: 1,000 torrents, 100,000 peers.
cat >"$work/announce.lua" <<'LUA'
function init(args) math.randomseed(os.time() * 1000 + math.random(1000)); close = args[1] == "close" end
function request()
  local t, p = math.random(0, 999), math.random(0, 99999)
  local left = 1048576
  if p % 4 == 0 then left = 0 end
  local headers = {}
  if close then headers["Connection"] = "close" end
  return wrk.format("GET", string.format(
    "/announce?info_hash=%020d&peer_id=-WK0001-%012d&port=%d&uploaded=0&downloaded=0&left=%d&compact=1&numwant=50&key=%x",
    t, p, 10000 + p % 50000, left, p), headers)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %.0f\n", summary.requests, summary.requests / (summary.duration / 1e6)))
end
LUA

# start NAME BINARY: a tracker (on its own redis-server with STORE=redis);
# sets port_NAME, tracker_NAME and, with Redis, redis_NAME (pids) and
# rport_NAME.
start() {
	local rport port store_flags=()
	if [ "$store" = redis ]; then
		rport=$(free_port)
		redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$work" --dbfilename "$1.rdb" >"$work/redis-$1.log" 2>&1 &
		pids+=($!)
		printf -v "redis_$1" %s $!
		printf -v "rport_$1" %s "$rport"
		wait_port "$rport"
		store_flags=(--redis-url "redis://127.0.0.1:$rport/0" --redis-timeout 1s)
	fi
	port=$(free_port)
	"$2" --http-addr "127.0.0.1:$port" --udp-addr "" --admin-addr "127.0.0.1:$(free_port)" --log-level error "${store_flags[@]}" &
	pids+=($!)
	printf -v "tracker_$1" %s $!
	printf -v "port_$1" %s "$port"
	wait_port "$port"
}

# ticks NAME: the CPU ticks of NAME's tracker and of its redis-server (0
# without one).
ticks() {
	local r=0
	[ "$store" = redis ] && r=$(cpu_ticks "$(eval echo "\$redis_$1")")
	echo "$(cpu_ticks "$(eval echo "\$tracker_$1")") $r"
}

# pair FIRST SECOND: loads both at once (FIRST's wrk starts first) and
# prints a line for each.
pair() {
	local x w=() before=() after=() i=0 out
	for x in "$1" "$2"; do
		wrk -t1 -c"$conns" -d2s -s "$work/announce.lua" "http://127.0.0.1:$(eval echo "\$port_$x")/" -- "$mode" >/dev/null 2>&1 &
		w+=($!)
	done
	wait "${w[@]}"
	w=()
	for x in "$1" "$2"; do
		[ "$store" = redis ] && redis-cli -p "$(eval echo "\$rport_$x")" config resetstat >/dev/null
		before+=("$(ticks "$x")")
	done
	for x in "$1" "$2"; do
		wrk -t1 -c"$conns" -d"$duration" -s "$work/announce.lua" "http://127.0.0.1:$(eval echo "\$port_$x")/" -- "$mode" >"$work/wrk-$x.txt" 2>&1 &
		w+=($!)
	done
	wait "${w[@]}"
	for x in "$1" "$2"; do
		after+=("$(ticks "$x")")
	done
	for x in "$1" "$2"; do
		if ! out=$(grep '^RESULT' "$work/wrk-$x.txt"); then
			echo "ab-tracker: wrk against $x gave no result:" >&2
			cat "$work/wrk-$x.txt" >&2
			return 1
		fi
		if [ "$store" = memory ]; then
			awk -v name="$x" -v res="$out" -v b="${before[i]}" -v a="${after[i]}" -v hz="$hz" 'BEGIN {
				split(res, r, " "); split(b, bb, " "); split(a, aa, " ")
				printf "  %s: %7d announces/s  tracker %4.0f µs\n", name, r[3], (aa[1] - bb[1]) * 1e6 / hz / r[2]
			}'
		else
			local rport reads evals
			rport=$(eval echo "\$rport_$x")
			reads=$(redis-cli -p "$rport" info stats | tr -d '\r' | awk -F: '/^total_reads_processed:/ {print $2}')
			evals=$(redis-cli -p "$rport" info commandstats | tr -d '\r' | awk -F'[=,:]' '/^cmdstat_evalsha:/ {print $3}')
			awk -v name="$x" -v res="$out" -v b="${before[i]}" -v a="${after[i]}" -v hz="$hz" -v reads="${reads:-0}" -v evals="${evals:-0}" 'BEGIN {
				split(res, r, " "); split(b, bb, " "); split(a, aa, " "); n = r[2]
				printf "  %s: %7d announces/s  tracker %4.0f µs  redis-server %4.0f µs  %5.1f announces per read\n", name, r[3],
					(aa[1] - bb[1]) * 1e6 / hz / n, (aa[2] - bb[2]) * 1e6 / hz / n, (reads > 0 ? evals / reads : 0)
			}'
		fi
		i=$((i + 1))
	done
}

start A "$1"
start B "$2"
echo "ab-tracker: A=$1 B=$2, $store store, $mode, wrk -c$conns -d$duration each, both at once, $rounds rounds"
for r in $(seq "$rounds"); do
	echo "round $r, A first:"
	pair A B
	echo "round $r, B first:"
	pair B A
done
