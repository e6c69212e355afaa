package httpfront

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/jackpal/bencode-go"
	"github.com/valyala/fasthttp"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
)

// FuzzParseAnnounce checks that no query string makes the announce parser
// panic, and that what it accepts is a complete announce.
func FuzzParseAnnounce(f *testing.F) {
	f.Add([]byte("info_hash=%00%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13&peer_id=-TR3000-abcdefghijkl&port=51413&uploaded=0&downloaded=0&left=100&event=started&compact=1&numwant=50&key=abc"), true)
	f.Add([]byte("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1&left=0&ip=1.2.3.4&ipv6=::1"), true)
	f.Add([]byte("info_hash=%zz"), false)
	f.Add([]byte("&&&==&info_hash"), false)
	f.Fuzz(func(t *testing.T, raw []byte, trusted bool) {
		var q announceQuery
		if err := q.parse(raw, trusted); err != nil {
			if _, ok := err.(tracker.Failure); !ok {
				t.Fatalf("parse error is not a client failure: %v", err)
			}
			return
		}
		if q.port == 0 {
			t.Fatal("accepted port 0")
		}
		if q.ip.IsValid() && !trusted {
			t.Fatal("honoured ip from an untrusted source")
		}
	})
}

// FuzzHandle sends arbitrary request targets through the whole handler:
// every answer is either bencode or a plain 4xx, never a 5xx.
func FuzzHandle(f *testing.F) {
	f.Add("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1&left=0")
	f.Add("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=bbbbbbbbbbbbbbbbbbbb&port=1&left=9&compact=0")
	f.Add("/scrape?info_hash=aaaaaaaaaaaaaaaaaaaa&info_hash=%00")
	f.Add("/scrape")
	f.Add("/x")
	store, err := memstore.New(memstore.Config{Shards: 1})
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	tr, err := tracker.New(tracker.Config{FullScrape: true}, store, nil)
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(tr, Config{})
	if err != nil {
		f.Fatal(err)
	}
	remote := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}
	f.Fuzz(func(t *testing.T, target string) {
		var req fasthttp.Request
		req.SetRequestURI(target)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, remote, nil)
		srv.Handle(&ctx)
		code := ctx.Response.StatusCode()
		if code >= 500 {
			t.Fatalf("HTTP %d for %q", code, target)
		}
		if code == 200 {
			if _, err := bencode.Decode(bytes.NewReader(ctx.Response.Body())); err != nil {
				t.Fatalf("invalid bencode for %q: %v: %q", target, err, ctx.Response.Body())
			}
		}
	})
}

// FuzzAppendAnnounce checks that the response encoder writes canonical
// bencode that says what it was given, for any counts and peer bytes.
func FuzzAppendAnnounce(f *testing.F) {
	f.Add(int64(3), int64(4), int64(1), []byte("\x0a\x00\x00\x01\x1a\xe1"), true, false)
	f.Add(int64(0), int64(0), int64(0), []byte{}, false, true)
	f.Fuzz(func(t *testing.T, seeders, leechers, downloaded int64, peers []byte, compact, v6 bool) {
		size := 6
		if v6 {
			size = 18
		}
		peers = peers[:len(peers)/size*size]
		ids := bytes.Repeat([]byte("x"), len(peers)/size*20)
		r := tracker.AnnounceResponse{IntervalSeconds: 1800, MinIntervalSeconds: 900, Swarm: tracker.SwarmAnswer{
			Seeders: int(seeders), Leechers: int(leechers), Downloaded: int(downloaded), Peers: peers, PeerIDs: ids,
		}}
		out := appendAnnounce(nil, &r, compact, v6, true)
		// Strict BEP 3: canonical integers, keys sorted and unique.
		v, err := bencode.DecodeWithOptions(bytes.NewReader(out), bencode.Options{
			MaxStringLength: int64(len(out)), MaxDepth: 4, MaxElements: -1, Strict: true,
		})
		if err != nil {
			t.Fatalf("invalid bencode: %v: %q", err, out)
		}
		d := v.(map[string]any)
		if d["complete"] != seeders || d["incomplete"] != leechers || d["downloaded"] != downloaded {
			t.Fatalf("counts changed: %v", d)
		}
		if !compact {
			list := d["peers"].([]any)
			if len(list) != len(peers)/size {
				t.Fatalf("%d peers written, %d given", len(list), len(peers)/size)
			}
			for i, p := range list {
				port := p.(map[string]any)["port"].(int64)
				if want := int64(binary.BigEndian.Uint16(peers[(i+1)*size-2:])); port != want {
					t.Fatalf("peer %d port %d, want %d", i, port, want)
				}
			}
			return
		}
		key := "peers"
		if v6 {
			key = "peers6"
		}
		if got := d[key].(string); got != string(peers) {
			t.Fatalf("%s = %x, want %x", key, got, peers)
		}
	})
}
