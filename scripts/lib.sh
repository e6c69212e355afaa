# Helpers the benchmark scripts source: a work folder removed on exit with
# the processes they started, free loopback ports, waiting for a listener
# and reading a process's CPU time. Set `me` (the script's name, for
# messages) before sourcing.

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# free_port prints a TCP port free on 127.0.0.1 now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT waits up to 10 s for something to listen on PORT.
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$me: nothing listens on port $1" >&2
	return 1
}

# cpu_ticks PID: the process's user and system CPU time so far, in clock
# ticks (getconf CLK_TCK per second).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
