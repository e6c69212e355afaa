#!/usr/bin/env bash
# `make soak`: runs the load tester against the tracker (Redis store) and
# the seeder for SOAK_DURATION (default 10m) and reports whether memory,
# goroutines and open file descriptors stayed flat and whether any request
# failed. Everything runs on loopback and stops by itself.
#
# SOAK_DURATION   how long the load runs (default 10m)
# SOAK_RATE       tracker requests per second, open loop (default 1000)
# SOAK_UPLOAD     the seeder's upload limit (default 30M bytes/s), so that the
#                 swarm rounds leave the tracker its share of the two cores
# SOAK_LEECHERS   simulated leechers per swarm round against the seeder (default 8)
# SOAK_SAMPLE     seconds between samples (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
duration=${SOAK_DURATION:-10m}
rate=${SOAK_RATE:-1000}
upload=${SOAK_UPLOAD:-30M}
leechers=${SOAK_LEECHERS:-8}
every=${SOAK_SAMPLE:-30}
py=python3

for cmd in redis-server; do
	command -v "$cmd" >/dev/null 2>&1 || { echo "soak: $cmd is missing: run scripts/install-test-deps.sh" >&2; exit 1; }
done

# shellcheck source=lib.sh
. scripts/lib.sh
work_dir
seconds() { $py -c "
import re,sys
m = re.fullmatch(r'(\d+)(ms|s|m|h)?', sys.argv[1])
if not m: sys.exit('soak: duration %r: want a number with s, m or h' % sys.argv[1])
n, u = int(m.group(1)), m.group(2) or 's'
print({'ms': n // 1000, 's': n, 'm': n * 60, 'h': n * 3600}[u])" "$1"; }
total=$(seconds "$duration")

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
tracker_port=$(free_port)
tracker_admin=$(free_port)
"$bin/tracker" --http-addr "127.0.0.1:$tracker_port" --udp-addr "127.0.0.1:$tracker_port" --admin-addr "127.0.0.1:$tracker_admin" \
	--redis-url "redis://127.0.0.1:$redis_port/0" --interval 60s --min-interval 10s --log-level warn >"$work/tracker.log" 2>&1 &
tracker_pid=$!
pids+=($tracker_pid)
wait_ready "$tracker_admin" tracker "$work/tracker.log"

mkdir -p "$work/data" "$work/torrents"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/data/soak.bin"
seeder_port=$(free_port)
seeder_admin=$(free_port)
"$bin/seeder" serve --data "$work/data" --torrents "$work/torrents" --tracker "http://127.0.0.1:$tracker_port/announce" \
	--listen "127.0.0.1:$seeder_port" --admin-addr "127.0.0.1:$seeder_admin" --upload-rate "$upload" --log-level warn \
	>"$work/seeder.out" 2>"$work/seeder.log" &
seeder_pid=$!
pids+=($seeder_pid)
wait_ready "$seeder_admin" seeder "$work/seeder.log"
torrent="$work/torrents/soak.bin.torrent"

goroutines() { # ADMIN_PORT
	$py -c "
import urllib.request as u, sys
try:
    body = u.urlopen('http://127.0.0.1:$1/metrics', timeout=5).read().decode()
except Exception:
    print('n/a'); sys.exit()
for line in body.splitlines():
    if line.startswith('go_goroutines '):
        print(int(float(line.split()[1]))); break
else:
    print('n/a')"
}
sample() { # PID ADMIN_PORT: rss_kib fds goroutines
	echo "$(awk '/^VmRSS/ {print $2}' "/proc/$1/status") $(ls "/proc/$1/fd" | wc -l) $(goroutines "$2")"
}

echo "soak: ${duration} of ${rate} tracker requests/s (open loop, HTTP) and rounds of $leechers leechers against the seeder"
"$bin/loadtest" tracker "http://127.0.0.1:$tracker_port/announce" --rate "$rate" --duration "${total}s" --warmup 5s \
	--torrents 1000 --peers 50000 --quiet --json >"$work/tracker-load.json" 2>"$work/tracker-load.err" &
load_pid=$!
pids+=($load_pid)

swarm_ok=0
swarm_failed=0
(
	end=$((SECONDS + total))
	while [ "$SECONDS" -lt "$end" ]; do
		if "$bin/loadtest" swarm --torrent "$torrent" --seeder "127.0.0.1:$seeder_port" --leechers "$leechers" --quiet --json >"$work/swarm-last.json" 2>>"$work/swarm.err"; then
			echo ok >>"$work/swarm-results"
		else
			echo failed >>"$work/swarm-results"
		fi
	done
) &
swarm_pid=$!
pids+=($swarm_pid)

printf '%8s | %12s %6s %6s | %12s %6s %6s\n' "time" "tracker RSS" "fds" "gor." "seeder RSS" "fds" "gor."
samples=()
start=$SECONDS
while [ $((SECONDS - start)) -lt "$total" ]; do
	read -r t_rss t_fds t_gor < <(sample "$tracker_pid" "$tracker_admin")
	read -r s_rss s_fds s_gor < <(sample "$seeder_pid" "$seeder_admin")
	samples+=("$t_rss $t_fds $t_gor $s_rss $s_fds $s_gor")
	printf '%7ss | %9s KiB %6s %6s | %9s KiB %6s %6s\n' "$((SECONDS - start))" "$t_rss" "$t_fds" "$t_gor" "$s_rss" "$s_fds" "$s_gor"
	sleep "$every"
done
wait "$load_pid" || true
wait "$swarm_pid" || true
read -r t_rss t_fds t_gor < <(sample "$tracker_pid" "$tracker_admin")
read -r s_rss s_fds s_gor < <(sample "$seeder_pid" "$seeder_admin")
samples+=("$t_rss $t_fds $t_gor $s_rss $s_fds $s_gor")
printf '%7ss | %9s KiB %6s %6s | %9s KiB %6s %6s\n' "$((SECONDS - start))" "$t_rss" "$t_fds" "$t_gor" "$s_rss" "$s_fds" "$s_gor"

swarm_ok=$(grep -c ok "$work/swarm-results" 2>/dev/null || true)
swarm_failed=$(grep -c failed "$work/swarm-results" 2>/dev/null || true)
status=0
# Flat: the last sample against the second (after start-up), with slack for
# the allocator and the Go runtime: memory within 1.5x + 32 MiB, descriptors
# and goroutines within 1.2x + 32.
verdict=$($py - "${samples[1]:-${samples[0]}}" "${samples[-1]}" <<'PY'
import sys
a = sys.argv[1].split(); b = sys.argv[2].split()
names = ["tracker RSS KiB", "tracker fds", "tracker goroutines", "seeder RSS KiB", "seeder fds", "seeder goroutines"]
bad = []
for i, n in enumerate(names):
    if a[i] == "n/a" or b[i] == "n/a":
        continue
    x, y = float(a[i]), float(b[i])
    limit = x * 1.5 + 32768 if "RSS" in n else x * 1.2 + 32
    if y > limit:
        bad.append("%s grew from %d to %d" % (n, x, y))
print("; ".join(bad) if bad else "flat")
PY
)
echo
echo "resources: $verdict"
[ "$verdict" = flat ] || status=1
$py - "$work/tracker-load.json" <<'PY' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
bad = r["errors"] + sum(r["failure_reasons"].values())
print("tracker load: %d requests answered at %.0f/s, %d errors or failure reasons, p99 %.1f ms"
      % (r["responses"], r["achieved_rate"], bad, r["latency"]["p99_ms"]))
if bad:
    print("  errors:", r.get("error_classes"), "failure reasons:", r["failure_reasons"])
sys.exit(1 if bad else 0)
PY
echo "seeder load: $swarm_ok swarm rounds completed, $swarm_failed failed"
[ "$swarm_failed" -eq 0 ] && [ "$swarm_ok" -gt 0 ] || status=1
if [ "$status" -eq 0 ]; then echo "soak: PASS"; else echo "soak: FAIL"; tail -5 "$work/swarm.err" "$work/tracker-load.err" 2>/dev/null; fi
exit "$status"
