# Helpers shared by the benchmark scripts; source it after setting py (the
# Python that runs the helpers; Debian's /usr/bin/python3 has libtorrent).

# free_port prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
	"$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready PORT NAME LOG: waits up to two minutes for http://127.0.0.1:PORT/readyz,
# else prints the end of LOG and fails.
wait_ready() {
	for _ in $(seq 1200); do
		if "$py" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$1/readyz', timeout=1)" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "$(basename "$0" .sh): $2 did not become ready:" >&2
	tail -20 "$3" >&2
	return 1
}
