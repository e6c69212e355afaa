#!/usr/bin/env bash
# `make bench-script`: the instructions redis-server spends on one announce
# script call (EVALSHA), counted by valgrind's callgrind over the announces
# of BenchmarkScriptCost (tracker/redisstore/cost_test.go) after its
# warm-up. Instruction counts repeat run after run whatever else the machine
# does, so a change to announce.lua can be judged on a busy machine, where
# usec/evalsha cannot. N (default 2000) announces per case; CASES (default
# "no-key single-stack dual-stack single-stack-drawn small-swarms") picks the
# cases: single-stack-drawn draws every answer in Redis (no replica
# samples), small-swarms has 200 swarms of 20 peers, too small to sample.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-2000}
cases=${CASES:-no-key single-stack dual-stack single-stack-drawn small-swarms}
for tool in valgrind callgrind_control callgrind_annotate redis-server; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench-script: $tool is missing (Debian packages valgrind, redis-server)" >&2
		exit 1
	fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
# The benchmark starts redis-server from PATH: this one runs the real one
# under callgrind, counting from the script command in.
cat >"$work/bin/redis-server" <<SHIM
#!/bin/sh
exec valgrind --tool=callgrind --toggle-collect=evalShaCommand --callgrind-out-file=$work/cg.\$\$ $(command -v redis-server) "\$@" 2>>$work/valgrind.log
SHIM
chmod +x "$work/bin/redis-server"
printf '%-20s %8s %14s\n' case calls instr/call
for c in $cases; do
	rm -f "$work"/cg.*
	if ! SCRIPT_COST_CALLGRIND=1 PATH="$work/bin:$PATH" go test ./tracker/redisstore -run '^$' \
		-bench "ScriptCost/$c\$" -benchtime="${n}x" >"$work/bench.log" 2>&1; then
		cat "$work/bench.log" >&2
		exit 1
	fi
	out=$(ls -t "$work"/cg.* | head -1)
	# The script calls counted: evalGenericCommand's, as its caller sees them.
	calls=$(callgrind_annotate --tree=calling --inclusive=yes "$out" 2>/dev/null |
		awk '!n && /> +[?]+:evalGenericCommand [(]/ { n = $0; sub(/.*[(]/, "", n); sub(/x[)].*/, "", n); gsub(",", "", n) } END { print n }')
	if [ -z "$calls" ] || [ "$calls" -eq 0 ]; then
		echo "bench-script: no script calls counted in $c" >&2
		exit 1
	fi
	total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	printf '%-20s %8d %14d\n' "$c" "$calls" $((total / calls))
done
