#!/usr/bin/env bash
# `make bench-tracker`: the same load against our tracker (memory store and
# Redis store) and Debian's opentracker, all on loopback, in two tables:
#  1. wrk announces, with keep-alive and with a new connection per request:
#     requests/s of each, the ratios, p99 latency, Redis round trips, and the
#     CPU each tracker process (and redis-server) spent per request;
#  2. `loadtest tracker` (closed loop, the default announce/scrape mix, Zipf
#     popularity) over HTTP keep-alive, HTTP connection per request and UDP,
#     then over UDP into one swarm of 10,000 peers (a release day);
#  3. on machines with two cores or more, the wrk rows of memory and Redis
#     mode again with redis-server on a core of its own, as it runs when
#     deployed, and the tracker and wrk sharing another in both modes. These
#     rows inform; the goals are judged on the shared cores above.
# DURATION (default 10s), CONNS (default 64) and THREADS (default 1) tune
# wrk; the server gets the remaining cores. ROUNDS (default 1) repeats
# sections 1 and 2: each goal's verdict then takes the median of the
# rounds' ratios, each ratio of runs a minute apart, which a machine whose
# speed drifts moves less than a single run.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
conns=${CONNS:-64}
threads=${THREADS:-1}
rounds=${ROUNDS:-1}
torrents=1000

for cmd in wrk opentracker redis-server redis-cli; do
	if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ]; then
		echo "bench-tracker: $cmd is missing: run scripts/install-test-deps.sh" >&2
		exit 1
	fi
done

# shellcheck source=lib.sh
. scripts/lib.sh
work_dir
# opentracker drops to user nobody inside this folder: it must be readable.
chmod 755 "$work"

# Info hashes are 20 ASCII digits so that they need no URL escaping; the
# whitelist holds their hex form, since Debian's opentracker only serves
# listed torrents.
for ((i = 0; i < torrents; i++)); do
	printf '%020d' "$i" | od -An -tx1 | tr -d ' \n'
	echo
done >"$work/whitelist.txt"
# And the ones `loadtest tracker` uses with the same --torrents and --seed,
# and the one of its single-swarm run.
bin/loadtest infohashes --torrents "$torrents" >>"$work/whitelist.txt"
bin/loadtest infohashes --torrents 1 >>"$work/whitelist.txt"

cat >"$work/announce.lua" <<LUA
-- Varies info_hash, peer_id, port and left over ${torrents} torrents and
-- counts answers that carry a failure reason.
failures = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + tid)
  close = args[1] == "close"
end
function request()
  local t = math.random(0, ${torrents} - 1)
  local p = math.random(0, 99999)
  local left = 1048576
  if p % 4 == 0 then left = 0 end
  local path = string.format(
    "/announce?info_hash=%020d&peer_id=-WK0001-%012d&port=%d&uploaded=0&downloaded=0&left=%d&compact=1&numwant=50&key=%x",
    t, p, 10000 + p % 50000, left, p)
  local headers = {}
  if close then headers["Connection"] = "close" end
  return wrk.format("GET", path, headers)
end
function response(status, headers, body)
  if status ~= 200 or body:find("failure reason", 1, true) then failures = failures + 1 end
end
function done(summary, latency, requests)
  local f = 0
  for _, t in ipairs(threads) do f = f + t:get("failures") end
  -- Read and write errors are left out: opentracker closes every connection after
  -- its answer, which wrk counts as one or the other.
  io.write(string.format("RESULT %.0f %d %d %.0f %d\n",
    summary.requests / (summary.duration / 1e6), f,
    summary.errors.connect + summary.errors.timeout,
    latency:percentile(99), summary.requests))
end
LUA

ours_port=$(free_port)
ours_admin=$(free_port)
bin/tracker --http-addr "127.0.0.1:$ours_port" --udp-addr "127.0.0.1:$ours_port" --admin-addr "127.0.0.1:$ours_admin" --log-level warn &
ours_pid=$!
pids+=($!)
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=($!)
wait_port "$redis_port"
redis_tracker_port=$(free_port)
redis_tracker_admin=$(free_port)
bin/tracker --http-addr "127.0.0.1:$redis_tracker_port" --udp-addr "127.0.0.1:$redis_tracker_port" --admin-addr "127.0.0.1:$redis_tracker_admin" --log-level warn \
	--redis-url "redis://127.0.0.1:$redis_port/0" --redis-timeout 1s &
redis_tracker_pid=$!
pids+=($!)
ot_port=$(free_port)
opentracker -i 127.0.0.1 -p "$ot_port" -P "$ot_port" -d "$work" -w whitelist.txt -u nobody >"$work/opentracker.log" 2>&1 &
ot_pid=$!
pids+=($!)
wait_port "$ours_port"
wait_port "$redis_tracker_port"
wait_port "$ot_port"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

hz=$(getconf CLK_TCK)

# pin: what runs wrk (section 3 pins it to a core).
pin=()

# run NAME PORT MODE PID...: prints "rps failures errors p99us", then for
# each PID the CPU it spent per request during the measured run, in µs.
run() {
	local out before=() after=() requests p i
	# A short warm-up fills the swarms so both trackers are measured in
	# steady state.
	"${pin[@]}" wrk -t"$threads" -c"$conns" -d2s -s "$work/announce.lua" "http://127.0.0.1:$2/" -- "$3" >/dev/null 2>&1 || true
	for p in "${@:4}"; do before+=("$(cpu_ticks "$p")"); done
	out=$("${pin[@]}" wrk -t"$threads" -c"$conns" -d"$duration" -s "$work/announce.lua" "http://127.0.0.1:$2/" -- "$3" 2>&1) || true
	for p in "${@:4}"; do after+=("$(cpu_ticks "$p")"); done
	if ! grep -q '^RESULT' <<<"$out"; then
		echo "bench-tracker: wrk against $1 gave no result:" >&2
		echo "$out" >&2
		return 1
	fi
	requests=$(awk '/^RESULT/ {print $6}' <<<"$out")
	printf '%s' "$(awk '/^RESULT/ {print $2, $3, $4, $5}' <<<"$out")"
	for i in "${!before[@]}"; do
		awk -v t="$((after[i] - before[i]))" -v hz="$hz" -v n="$requests" 'BEGIN { printf " %.0f", (n > 0 ? t * 1e6 / hz / n : 0) }'
	done
	echo
}

# median RATIO...: the median of the rounds' ratios ("n/a" if any is).
median() {
	printf '%s\n' "$@" | sort -g | awk '/n\/a/ { bad = 1 } { v[NR] = $1 }
		END { if (bad || NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# verdict GOAL MIN RATIO...: one line per goal of the tracker-throughput
# issue, judged on the median of the rounds' ratios.
verdict() {
	local goal=$1 min=$2 m rounds_note=""
	shift 2
	m=$(median "$@")
	[ $# -gt 1 ] && rounds_note=" (rounds: $*)"
	if awk -v r="$m" -v m="$min" 'BEGIN { exit !(r != "n/a" && r + 0 >= m + 0) }'; then
		printf '  met:     %-58s %5sx (goal >= %sx)%s\n' "$goal" "$m" "$min" "$rounds_note"
	else
		printf '  NOT MET: %-58s %5sx (goal >= %sx)%s\n' "$goal" "$m" "$min" "$rounds_note"
	fi
}
# lt URL CONN [TORRENTS PEERS]: prints "achieved_rate failed p99_ms" for one
# closed-loop run.
lt() {
	bin/loadtest tracker "$1" --max "$conns" --duration "$duration" --warmup 2s \
		--torrents "${3:-$torrents}" --peers "${4:-100000}" --conn "$2" --quiet --json |
		python3 -c 'import json,sys; r=json.load(sys.stdin); print(int(r["achieved_rate"]), r["errors"]+sum(r["failure_reasons"].values()), "%.1f" % r["latency"]["p99_ms"])'
}

declare -A wrk_mem_ot wrk_red_mem lt_mem_ot lt_red_mem

status=0
printf 'bench-tracker: wrk -t%s -c%s -d%s, %d torrents, %d round(s), on %s (%s cores)\n' "$threads" "$conns" "$duration" "$torrents" \
	"$rounds" "$(lscpu 2>/dev/null | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')" "$(nproc)"
for ((round = 1; round <= rounds; round++)); do
	[ "$rounds" -gt 1 ] && printf '\nround %d of %d\n' "$round" "$rounds"
	printf '%-24s %10s %10s %12s %8s %9s %14s\n' "mode (req/s)" "memory" "redis" "opentracker" "mem/ot" "redis/mem" "p99 ms m/r/ot"
	for mode in keepalive close; do
		read -r mem_rps mem_fail mem_err mem_p99 mem_cpu < <(run memory "$ours_port" "$mode" "$ours_pid")
		redis-cli -p "$redis_port" config resetstat >/dev/null
		read -r red_rps red_fail red_err red_p99 red_cpu redis_cpu < <(run redis "$redis_tracker_port" "$mode" "$redis_tracker_pid" "$redis_pid")
		evalsha=$(redis-cli -p "$redis_port" info commandstats | awk -F'[=,:]' '/^cmdstat_evalsha:/ {print $3}')
		read -r ot_rps ot_fail ot_err ot_p99 ot_cpu < <(run opentracker "$ot_port" "$mode" "$ot_pid")
		label=$mode
		[ "$mode" = close ] && label="connection-per-request"
		printf '%-24s %10s %10s %12s %7sx %8sx %14s\n' "$label" "$mem_rps" "$red_rps" "$ot_rps" \
			"$(ratio "$mem_rps" "$ot_rps")" "$(ratio "$red_rps" "$mem_rps")" \
			"$(ms "$mem_p99")/$(ms "$red_p99")/$(ms "$ot_p99")"
		wrk_mem_ot[$mode]+=" $(ratio "$mem_rps" "$ot_rps")"
		wrk_red_mem[$mode]+=" $(ratio "$red_rps" "$mem_rps")"
		# The warm-up run and the measured run both went to Redis.
		echo "  redis: ${evalsha:-0} EVALSHA round trips for the redis runs of this mode"
		echo "  CPU µs per request: memory $mem_cpu; Redis mode: tracker $red_cpu + redis-server $redis_cpu; opentracker $ot_cpu"
		if [ "$((mem_fail + mem_err + red_fail + red_err + ot_fail + ot_err))" -ne 0 ]; then
			echo "  failed answers or socket errors: memory $((mem_fail + mem_err)), redis $((red_fail + red_err)), opentracker $((ot_fail + ot_err))"
			status=1
		fi
	done
	echo "(opentracker closes every connection after its answer, so it reconnects even in keep-alive mode)"

	echo
	printf 'loadtest tracker --max %s (announces and scrapes, Zipf popularity over %d torrents;\n' "$conns" "$torrents"
	printf 'the last row: one swarm of 10,000 peers, as on a release day, informative)\n'
	printf '%-24s %10s %10s %12s %8s %9s %14s\n' "mode (req/s)" "memory" "redis" "opentracker" "mem/ot" "redis/mem" "p99 ms m/r/ot"
	for mode in keepalive close udp udp1; do
		shape=()
		case $mode in
		udp*) m_url="udp://127.0.0.1:$ours_port" r_url="udp://127.0.0.1:$redis_tracker_port" o_url="udp://127.0.0.1:$ot_port" conn=keepalive o_conn=keepalive ;;
		*) m_url="http://127.0.0.1:$ours_port/announce" r_url="http://127.0.0.1:$redis_tracker_port/announce" o_url="http://127.0.0.1:$ot_port/announce" conn=$mode o_conn=close ;;
		esac
		[ "$mode" = udp1 ] && shape=(1 10000)
		read -r mem_rps mem_bad mem_p99 < <(lt "$m_url" "$conn" "${shape[@]}")
		read -r red_rps red_bad red_p99 < <(lt "$r_url" "$conn" "${shape[@]}")
		read -r ot_rps ot_bad ot_p99 < <(lt "$o_url" "$o_conn" "${shape[@]}")
		lt_mem_ot[$mode]+=" $(ratio "$mem_rps" "$ot_rps")"
		lt_red_mem[$mode]+=" $(ratio "$red_rps" "$mem_rps")"
		label=$mode
		[ "$mode" = close ] && label="connection-per-request"
		[ "$mode" = udp1 ] && label="udp, one swarm"
		printf '%-24s %10s %10s %12s %7sx %8sx %14s\n' "$label" "$mem_rps" "$red_rps" "$ot_rps" \
			"$(ratio "$mem_rps" "$ot_rps")" "$(ratio "$red_rps" "$mem_rps")" "$mem_p99/$red_p99/$ot_p99"
		if [ "$((mem_bad + red_bad + ot_bad))" -ne 0 ]; then
			echo "  errors or failure reasons: memory $mem_bad, redis $red_bad, opentracker $ot_bad"
			status=1
		fi
	done
	echo "(opentracker is always driven with a connection per request over HTTP: it closes every connection)"
done

# Section 3: redis-server alone on CPU 1; each tracker (started pinned, so
# that Go sizes GOMAXPROCS to the one core) shares CPU 0 with wrk.
declare -A pin_red_mem
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
	pin_redis_port=$(free_port)
	taskset -c 1 redis-server --bind 127.0.0.1 --port "$pin_redis_port" --save "" --appendonly no --dir "$work" \
		--dbfilename pinned.rdb >"$work/redis-pinned.log" 2>&1 &
	pin_redis_pid=$!
	pids+=($!)
	pin_mem_port=$(free_port)
	taskset -c 0 bin/tracker --http-addr "127.0.0.1:$pin_mem_port" --udp-addr "127.0.0.1:$pin_mem_port" \
		--admin-addr "127.0.0.1:$(free_port)" --log-level warn &
	pin_mem_pid=$!
	pids+=($!)
	wait_port "$pin_redis_port"
	pin_red_port=$(free_port)
	taskset -c 0 bin/tracker --http-addr "127.0.0.1:$pin_red_port" --udp-addr "127.0.0.1:$pin_red_port" \
		--admin-addr "127.0.0.1:$(free_port)" --log-level warn --redis-url "redis://127.0.0.1:$pin_redis_port/0" --redis-timeout 1s &
	pin_red_pid=$!
	pids+=($!)
	wait_port "$pin_mem_port"
	wait_port "$pin_red_port"
	pin=(taskset -c 0)
	echo
	echo "wrk again, redis-server alone on CPU 1, each tracker sharing CPU 0 with wrk (informative, not a goal)"
	printf '%-24s %10s %10s %9s %10s\n' "mode (req/s)" "memory" "redis" "redis/mem" "p99 ms m/r"
	for mode in keepalive close; do
		read -r mem_rps mem_fail mem_err mem_p99 mem_cpu < <(run memory "$pin_mem_port" "$mode" "$pin_mem_pid")
		read -r red_rps red_fail red_err red_p99 red_cpu redis_cpu < <(run redis "$pin_red_port" "$mode" "$pin_red_pid" "$pin_redis_pid")
		label=$mode
		[ "$mode" = close ] && label="connection-per-request"
		pin_red_mem[$mode]=$(ratio "$red_rps" "$mem_rps")
		printf '%-24s %10s %10s %8sx %10s\n' "$label" "$mem_rps" "$red_rps" "${pin_red_mem[$mode]}" "$(ms "$mem_p99")/$(ms "$red_p99")"
		echo "  CPU µs per request: memory $mem_cpu; Redis mode: tracker $red_cpu + redis-server $redis_cpu"
		if [ "$((mem_fail + mem_err + red_fail + red_err))" -ne 0 ]; then
			echo "  failed answers or socket errors: memory $((mem_fail + mem_err)), redis $((red_fail + red_err))"
			status=1
		fi
	done
	pin=()
fi

echo
echo "verdicts (goals of the tracker-throughput issue; wrk rows unless said):"
# The ratio lists are split into the rounds' ratios on purpose.
# shellcheck disable=SC2086
{
	verdict "connection per request: memory / opentracker" 1.0 ${wrk_mem_ot[close]}
	verdict "keep-alive: memory / opentracker" 1.0 ${wrk_mem_ot[keepalive]}
	verdict "keep-alive: Redis / memory" 0.5 ${wrk_red_mem[keepalive]}
	verdict "connection per request: Redis / memory" 0.5 ${wrk_red_mem[close]}
	verdict "UDP (loadtest): memory / opentracker" 1.0 ${lt_mem_ot[udp]}
	verdict "UDP (loadtest): Redis / memory" 0.5 ${lt_red_mem[udp]}
}
if [ -n "${pin_red_mem[keepalive]:-}" ]; then
	echo "informative: Redis / memory with redis-server on a core of its own: keep-alive ${pin_red_mem[keepalive]}x," \
		"connection per request ${pin_red_mem[close]}x"
fi
# shellcheck disable=SC2086
echo "informative: one swarm of 10,000 peers over UDP (loadtest): memory / opentracker $(median ${lt_mem_ot[udp1]})x," \
	"Redis / memory $(median ${lt_red_mem[udp1]})x"

exit "$status"
