package metainfo

import (
	"fmt"
	"slices"
	"strings"
)

// benc encodes test values: map[string]any (keys sorted), []any, []string,
// string and int. Hostile inputs that bencode cannot express this way are
// written out by hand.
func benc(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%d:%s", len(v), v)
	case int:
		return fmt.Sprintf("i%de", v)
	case int64:
		return fmt.Sprintf("i%de", v)
	case []string:
		var b strings.Builder
		b.WriteString("l")
		for _, e := range v {
			b.WriteString(benc(e))
		}
		return b.String() + "e"
	case []any:
		var b strings.Builder
		b.WriteString("l")
		for _, e := range v {
			b.WriteString(benc(e))
		}
		return b.String() + "e"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		b.WriteString("d")
		for _, k := range keys {
			b.WriteString(benc(k) + benc(v[k]))
		}
		return b.String() + "e"
	}
	panic(fmt.Sprintf("benc: unsupported %T", v))
}

// multiFile returns a valid multi-file torrent as test values: two files of
// 40,000 and 10,000 bytes in 16 KiB pieces (four pieces).
func multiFile() (top, info map[string]any) {
	info = map[string]any{
		"name":         "album",
		"piece length": 16384,
		"pieces":       strings.Repeat("h", 4*20),
		"files": []any{
			map[string]any{"length": 40000, "path": []string{"disc1", "a.flac"}},
			map[string]any{"length": 10000, "path": []string{"cover.jpg"}},
		},
	}
	top = map[string]any{"announce": "http://tracker.example/announce", "info": info}
	return top, info
}

// singleFile returns a valid single-file torrent: 100,000 bytes in 32 KiB
// pieces (four pieces).
func singleFile() (top, info map[string]any) {
	info = map[string]any{
		"name":         "movie.mkv",
		"piece length": 32768,
		"pieces":       strings.Repeat("p", 4*20),
		"length":       100000,
	}
	top = map[string]any{"announce": "http://tracker.example/announce", "info": info}
	return top, info
}
