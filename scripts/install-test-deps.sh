#!/usr/bin/env bash
# Installs, from Debian's packages and only when missing, what `make test` needs:
# redis-server, the real BitTorrent clients the end-to-end tests drive, promtool
# (from the prometheus package; it lints the binaries' /metrics), and the tools
# `make bench-tracker` compares against. Idempotent, and silent when everything
# is already present.
set -euo pipefail

# command-or-probe  package
need=(
	"redis-server:redis-server"
	"redis-cli:redis-tools"
	"aria2c:aria2"
	"transmission-cli:transmission-cli"
	"transmission-daemon:transmission-daemon"
	"transmission-show:transmission-cli"
	"mktorrent:mktorrent"
	"opentracker:opentracker"
	"wrk:wrk"
	"promtool:prometheus"
	"py:libtorrent:python3-libtorrent"
)

missing=()
for entry in "${need[@]}"; do
	case "$entry" in
	py:*)
		rest=${entry#py:}
		module=${rest%%:*}
		pkg=${rest#*:}
		# libtorrent's bindings live only in Debian's own interpreter.
		if ! /usr/bin/python3 -c "import $module" >/dev/null 2>&1; then
			missing+=("$pkg")
		fi
		;;
	*)
		cmd=${entry%%:*}
		pkg=${entry#*:}
		# opentracker installs into /usr/bin but some images lack /usr/sbin on PATH.
		if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ] && [ ! -x "/usr/sbin/$cmd" ]; then
			missing+=("$pkg")
		fi
		;;
	esac
done

[ ${#missing[@]} -eq 0 ] && exit 0

# Deduplicate package names while keeping order.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

if [ "$(id -u)" -ne 0 ]; then
	echo "install-test-deps: missing Debian packages: ${missing[*]}" >&2
	echo "install-test-deps: run as root, or install them with: apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT
if ! apt-get update -qq >"$apt_log" 2>&1; then
	cat "$apt_log" >&2
	echo "install-test-deps: apt-get update failed" >&2
	exit 1
fi
# Packages' own services (redis, transmission-daemon, opentracker) must not be
# started by the install: tests start their own on free loopback ports.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	own_policy=1
fi
status=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$apt_log" 2>&1 || status=$?
[ "$own_policy" -eq 1 ] && rm -f "$policy"
if [ "$status" -ne 0 ]; then
	cat "$apt_log" >&2
	echo "install-test-deps: apt-get install failed" >&2
	exit 1
fi
echo "install-test-deps: done" >&2
