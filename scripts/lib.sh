# Helpers shared by the benchmark scripts; source it after setting py (the
# Python that runs the helpers, python3 when unset; Debian's
# /usr/bin/python3 has libtorrent).

# work_dir makes the work folder $work and removes it on exit, after
# killing the processes whose pids the script adds to pids. Scripts that
# remove more set up their own.
work_dir() {
	work=$(mktemp -d)
	pids=()
	trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

# free_port prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
	"${py:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready PORT NAME LOG: waits up to two minutes for http://127.0.0.1:PORT/readyz,
# else prints the end of LOG and fails.
wait_ready() {
	for _ in $(seq 1200); do
		if "${py:-python3}" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$1/readyz', timeout=1)" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "$(basename "$0" .sh): $2 did not become ready:" >&2
	tail -20 "$3" >&2
	return 1
}

# wait_port PORT waits up to 10 s for something to listen on PORT.
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$(basename "$0" .sh): nothing listens on port $1" >&2
	return 1
}

# cpu_ticks PID: the process's user and system CPU time so far, in clock
# ticks (getconf CLK_TCK per second).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
