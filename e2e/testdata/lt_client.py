"""A libtorrent client for end-to-end tests, run with Debian's /usr/bin/python3.

    lt_client.py seed  TORRENT SAVE_DIR PORT
    lt_client.py fetch TORRENT SAVE_DIR PORT [TIMEOUT_SECONDS]
    lt_client.py create FILE_OR_DIR TRACKER_URL OUT.torrent [PIECE_LENGTH]
    lt_client.py fetchmany SAVE_DIR PORT TIMEOUT_SECONDS PEER SOURCE...
    lt_client.py capped TORRENT SAVE_DIR PORT RATE plain|super
    lt_client.py swarm OUT_DIR LEECHERS TIMEOUT_SECONDS TORRENT DATA_FILE
    lt_client.py dhtfetch SAVE_DIR PORT TIMEOUT_SECONDS DHT_NODE MAGNET

seed prints "SEEDING" once the data is checked and keeps seeding until
SIGTERM or SIGINT. fetch exits 0 once every piece has arrived, 1 on an
error or time-out. create makes a torrent and prints its info hash.
fetchmany downloads every SOURCE (a .torrent path or a magnet link) in one
session and exits 0 once all are complete, printing "PEER HOST:PORT" for every
peer it was connected to, as libtorrent saw its address; PEER is HOST:PORT to connect
every torrent to directly (a magnet link without trackers needs it), or -.
Everything stays on loopback: DHT, LSD, UPnP and NAT-PMP are off.

capped seeds with its upload capped at RATE bytes per second (loopback peers
included: libtorrent exempts local peers from its limits unless they are put
in the global peer class), plainly or super-seeding (BEP 16); it prints
SEEDING once ready and, on SIGTERM, "UPLOADED <payload bytes>".

swarm starts LEECHERS sessions in one process that find each other and the
seeder through the torrent's tracker, uncapped; once every leecher has
every piece it checks each copy's SHA-256 against DATA_FILE (a single-file
torrent) and prints "DONE <seconds until the last was complete>".

dhtfetch downloads MAGNET (a link without trackers) with the session's DHT
on, bootstrapped from DHT_NODE (HOST:PORT) alone and never told of a peer:
the DHT must find the seeder. The DHT is set up for loopback (no IP
restrictions, no rate-limit bans); it is still the only thing this session
enables that reaches out, and DHT_NODE is its only entry point. The
torrent is added once the DHT has bootstrapped, so that its first DHT
lookup comes at once. Exits 0 once complete.

--ipv6 before the command makes the session listen on [::1] only, so it is
reachable over IPv6 alone.

--dht before the command turns the session's DHT on, set up for loopback as
in dhtfetch but with no bootstrap node: it contacts only the nodes its
peers' port messages name (BEP 5) and those that query it.

--require-encryption before the command makes the session speak only
Message Stream Encryption with RC4, both ways (enc_policy forced): plain
peers are refused.
"""
import hashlib
import os
import signal
import sys
import time

import libtorrent as lt

# Set by --require-encryption.
REQUIRE_ENCRYPTION = False
# Set to "[::1]" by --ipv6.
LISTEN_HOST = "127.0.0.1"
# Set by --dht.
DHT = False

# The DHT on loopback: every node and peer is on 127.0.0.1.
DHT_SETTINGS = {
    "enable_dht": True,
    "dht_restrict_routing_ips": False,
    "dht_restrict_search_ips": False,
    # The default bans an IP sending more than 5 packets a second.
    "dht_block_ratelimit": 100000,
}


def session(port, extra=None):
    settings = {
        "listen_interfaces": "%s:%d" % (LISTEN_HOST, port),
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        "allow_multiple_connections_per_ip": True,
        "min_reconnect_time": 1,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        # Re-announce as often as the test tracker allows.
        "min_announce_interval": 5,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.connect_notification,
    }
    if DHT:
        settings.update(DHT_SETTINGS)
    if REQUIRE_ENCRYPTION:
        settings.update({
            "out_enc_policy": int(lt.enc_policy.forced),
            "in_enc_policy": int(lt.enc_policy.forced),
            "allowed_enc_level": int(lt.enc_level.rc4),
            "prefer_rc4": True,
        })
    settings.update(extra or {})
    return lt.session(settings)


def log_alerts(s):
    """Prints the alerts worth seeing and returns how many tracker replies came."""
    replies = 0
    for a in s.pop_alerts():
        if isinstance(a, (lt.tracker_error_alert, lt.torrent_error_alert, lt.file_error_alert)):
            print("alert:", a.message(), flush=True)
        elif isinstance(a, lt.tracker_reply_alert):
            print("tracker reply:", a.message(), flush=True)
            replies += 1
        elif isinstance(a, lt.peer_connect_alert):
            print("DIAL %s:%d" % a.endpoint, flush=True)
    return replies


def seed(torrent, save_dir, port):
    s = session(port)
    h = s.add_torrent({"ti": lt.torrent_info(torrent), "save_path": save_dir})
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    said = False
    while not stop:
        st = h.status()
        if not said and st.is_seeding:
            print("SEEDING", flush=True)
            said = True
        log_alerts(s)
        time.sleep(0.1)
    s.pause()
    return 0


def fetch(torrent, save_dir, port, timeout):
    s = session(port)
    h = s.add_torrent({"ti": lt.torrent_info(torrent), "save_path": save_dir})
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = h.status()
        log_alerts(s)
        if st.is_seeding:
            # Let the tracker hear "completed" before exiting.
            until = min(deadline, time.time() + 15)
            while time.time() < until and log_alerts(s) == 0:
                time.sleep(0.1)
            print("DONE", flush=True)
            return 0
        if st.errc.value() != 0:
            print("error:", st.errc.message(), flush=True)
            return 1
        time.sleep(0.1)
    print("timed out at %.1f%%" % (h.status().progress * 100), flush=True)
    return 1


def fetchmany(save_dir, port, timeout, peer, sources):
    s = session(port)
    handles = []
    for src in sources:
        if src.startswith("magnet:"):
            atp = lt.parse_magnet_uri(src)
            atp.save_path = save_dir
        else:
            atp = {"ti": lt.torrent_info(src), "save_path": save_dir}
        handles.append((src, s.add_torrent(atp)))
    target = None
    if peer != "-":
        host, _, p = peer.rpartition(":")
        target = (host, int(p))
    deadline = time.time() + timeout
    next_connect = 0
    seen = set()
    while time.time() < deadline:
        log_alerts(s)
        for _, h in handles:
            for pi in h.get_peer_info():
                if pi.ip not in seen:
                    seen.add(pi.ip)
                    print("PEER %s:%d" % pi.ip, flush=True)
        if target and time.time() >= next_connect:
            for _, h in handles:
                if not h.status().is_seeding:
                    h.connect_peer(target)
            next_connect = time.time() + 2
        if all(h.status().is_seeding for _, h in handles):
            print("DONE", flush=True)
            return 0
        for src, h in handles:
            st = h.status()
            if st.errc.value() != 0:
                print("error:", src, st.errc.message(), flush=True)
                return 1
        time.sleep(0.1)
    for src, h in handles:
        print("timed out: %s at %.1f%%" % (src, h.status().progress * 100), flush=True)
    return 1


def capped(torrent, data_dir, port, rate, mode):
    s = session(port, {"upload_rate_limit": rate})
    # Local peers into the global class, so the cap holds on loopback.
    f = lt.ip_filter()
    f.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
    s.set_peer_class_filter(f)
    atp = {"ti": lt.torrent_info(torrent), "save_path": data_dir}
    h = s.add_torrent(atp)
    if mode == "super":
        h.set_flags(lt.torrent_flags.super_seeding)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    said = False
    while not stop:
        if not said and h.status().is_seeding:
            print("SEEDING", flush=True)
            said = True
        s.pop_alerts()
        time.sleep(0.1)
    print("UPLOADED %d" % h.status().total_payload_upload, flush=True)
    return 0


def free_port():
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    p = sock.getsockname()[1]
    sock.close()
    return p


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def swarm(out_dir, n, timeout, torrent, data_file):
    ti = lt.torrent_info(torrent)
    sessions = []
    start = time.time()
    for i in range(n):
        s = session(free_port())
        d = os.path.join(out_dir, "leecher-%d" % i)
        os.makedirs(d, exist_ok=True)
        h = s.add_torrent({"ti": ti, "save_path": d})
        sessions.append((s, h, d))
    done = [None] * n
    deadline = start + timeout
    while time.time() < deadline and None in done:
        for i, (s, h, _) in enumerate(sessions):
            s.pop_alerts()
            if done[i] is None and h.status().is_seeding:
                done[i] = time.time() - start
        time.sleep(0.05)
    if None in done:
        for i, (_, h, _) in enumerate(sessions):
            print("leecher %d at %.1f%%" % (i, h.status().progress * 100), flush=True)
        print("timed out", flush=True)
        return 1
    took = max(done)
    want = sha256(data_file)
    name = ti.files().file_path(0)
    for i, (_, _, d) in enumerate(sessions):
        got = sha256(os.path.join(d, name))
        if got != want:
            print("leecher %d: SHA-256 %s, want %s" % (i, got, want), flush=True)
            return 1
    print("DONE %.2f" % took, flush=True)
    return 0


def dhtfetch(save_dir, port, timeout, node, magnet):
    s = session(port, dict(DHT_SETTINGS, **{
        "dht_bootstrap_nodes": node,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.dht_notification
        | lt.alert.category_t.dht_operation_notification,
    }))
    deadline = time.time() + timeout
    # The torrent is added only once the DHT runs. A torrent that starts
    # before the session has started its DHT (the session starts it a
    # moment after applying the settings, so this is a race that a busy
    # machine loses) is never looked up at once: its first DHT lookup comes
    # with the round-robin DHT announce, dht_announce_interval (15 minutes)
    # later. libtorrent logs "prioritizing DHT announce" only when the DHT
    # is up at the torrent's start.
    bootstrapped = False
    while not bootstrapped:
        if time.time() >= deadline:
            print("timed out waiting for the DHT bootstrap", flush=True)
            return 1
        for a in s.pop_alerts():
            if isinstance(a, (lt.dht_bootstrap_alert, lt.listen_failed_alert)):
                print("alert:", a.message(), flush=True)
            bootstrapped = bootstrapped or isinstance(a, lt.dht_bootstrap_alert)
        time.sleep(0.05)
    atp = lt.parse_magnet_uri(magnet)
    atp.save_path = save_dir
    h = s.add_torrent(atp)
    lookups = 0
    while time.time() < deadline:
        for a in s.pop_alerts():
            if isinstance(a, (lt.listen_failed_alert, lt.torrent_error_alert, lt.file_error_alert)):
                print("alert:", a.message(), flush=True)
            elif isinstance(a, lt.dht_outgoing_get_peers_alert):
                lookups += 1
        st = h.status()
        if st.is_seeding:
            print("DONE", flush=True)
            return 0
        if st.errc.value() != 0:
            print("error:", st.errc.message(), flush=True)
            return 1
        time.sleep(0.1)
    # Not the DHT nodes: libtorrent never puts its bootstrap node in its
    # routing table, which stays empty here however well the DHT works.
    print("timed out at %.1f%%, %d DHT get_peers sent, %d peers" % (h.status().progress * 100, lookups, h.status().num_peers), flush=True)
    return 1


def create(path, tracker, out, piece_length):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    # v1 only: libtorrent 2.0 makes hybrid v1+v2 torrents by default.
    t = lt.create_torrent(fs, piece_length, flags=lt.create_torrent.v1_only)
    t.add_tracker(tracker)
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(path)))
    data = lt.bencode(t.generate())
    with open(out, "wb") as f:
        f.write(data)
    print(lt.torrent_info(out).info_hash(), flush=True)
    return 0


def main(argv):
    global REQUIRE_ENCRYPTION, LISTEN_HOST, DHT
    while len(argv) > 1 and argv[1] in ("--require-encryption", "--ipv6", "--dht"):
        if argv[1] == "--require-encryption":
            REQUIRE_ENCRYPTION = True
        elif argv[1] == "--dht":
            DHT = True
        else:
            LISTEN_HOST = "[::1]"
        argv = argv[:1] + argv[2:]
    cmd = argv[1]
    if cmd == "seed":
        return seed(argv[2], argv[3], int(argv[4]))
    if cmd == "fetch":
        return fetch(argv[2], argv[3], int(argv[4]), float(argv[5]) if len(argv) > 5 else 120)
    if cmd == "fetchmany":
        return fetchmany(argv[2], int(argv[3]), float(argv[4]), argv[5], argv[6:])
    if cmd == "capped":
        return capped(argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6])
    if cmd == "swarm":
        return swarm(argv[2], int(argv[3]), float(argv[4]), argv[5], argv[6])
    if cmd == "dhtfetch":
        return dhtfetch(argv[2], int(argv[3]), float(argv[4]), argv[5], argv[6])
    if cmd == "create":
        return create(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) > 5 else 262144)
    print("unknown command", cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
