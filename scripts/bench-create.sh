#!/usr/bin/env bash
# `make bench-create`: `seeder create` against Debian's mktorrent on the same
# file with the same piece length, mktorrent using one hashing thread per
# core (-t) as the seeder does. The file is flushed and read once first so
# both tools hash from the page cache and the disk does not decide the result. Runs
# alternate between the tools; prints each one's best and median wall time
# and their ratio, and checks that both made the same info hash.
# SIZE_MB (default 1024), PIECE_LOG2 (default 20, 1 MiB pieces: what the
# seeder picks by itself for 1 GiB) and RUNS (default 5) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${SIZE_MB:-1024}
piece_log2=${PIECE_LOG2:-20}
runs=${RUNS:-5}
seeder=${SEEDER:-bin/seeder}
cores=$(nproc)

if ! command -v mktorrent >/dev/null 2>&1; then
	echo "bench-create: mktorrent is missing: run scripts/install-test-deps.sh" >&2
	exit 1
fi
if [ ! -x "$seeder" ]; then
	echo "bench-create: $seeder is missing: run make build" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data.bin"
head -c "$((size_mb << 20))" /dev/urandom >"$data"
# Write the data back first: pages still being flushed to disk slow reads
# down by half or more, whichever tool happens to run then.
sync "$data"
cat "$data" >/dev/null

now() { date +%s%N; }
declare -a seeder_ms mktorrent_ms
for ((i = 0; i < runs; i++)); do
	rm -f "$work/s.torrent" "$work/m.torrent"
	t0=$(now)
	"$seeder" create "$data" -t http://127.0.0.1:6969/announce --piece-length "$((1 << piece_log2))" \
		--no-date -o "$work/s.torrent" >/dev/null
	t1=$(now)
	mktorrent -l "$piece_log2" -t "$cores" -a http://127.0.0.1:6969/announce -d -o "$work/m.torrent" "$data" >/dev/null
	t2=$(now)
	seeder_ms+=("$(((t1 - t0) / 1000000))")
	mktorrent_ms+=("$(((t2 - t1) / 1000000))")
done

hash_of() { "$seeder" info "$1" | awk '/^info hash:/ {print $3}'; }
if [ "$(hash_of "$work/s.torrent")" != "$(hash_of "$work/m.torrent")" ]; then
	echo "bench-create: seeder and mktorrent made different info hashes" >&2
	exit 1
fi

stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%d %d\n", a[1], a[int((NR+1)/2)]}'; }
read -r s_best s_med < <(stats "${seeder_ms[@]}")
read -r m_best m_med < <(stats "${mktorrent_ms[@]}")
echo "machine:    $cores cores, $(lscpu | awk -F': *' '/^Model name/ {print $2; exit}')"
echo "data:       ${size_mb} MiB in $((1 << piece_log2 >> 10)) KiB pieces, from the page cache, $runs runs each"
echo "seeder:     best ${s_best} ms, median ${s_med} ms  (runs: ${seeder_ms[*]})"
echo "mktorrent:  best ${m_best} ms, median ${m_med} ms  (runs: ${mktorrent_ms[*]}; -t $cores)"
awk -v s="$s_best" -v m="$m_best" -v sm="$s_med" -v mm="$m_med" \
	'BEGIN {printf "ratio:      mktorrent/seeder %.2f best, %.2f median (above 1: the seeder is faster)\n", m/s, mm/sm}'
