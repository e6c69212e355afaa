package metainfo

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	bencode "github.com/jackpal/bencode-go"
)

// Torrent is a parsed .torrent file.
type Torrent struct {
	// Info is the decoded info dictionary. It describes InfoBytes: change it
	// through SetInfo, which re-encodes it and recomputes the info hash.
	Info Info
	// Announce is the tracker URL of the `announce` key. Clients ignore it
	// when AnnounceList has any tracker (BEP 12); see Trackers.
	Announce string
	// AnnounceList holds BEP 12 tiers of tracker URLs, as in the file.
	AnnounceList [][]string
	// WebSeeds are BEP 19 web seed URLs (`url-list`).
	WebSeeds []string
	// Comment is free text for people.
	Comment string
	// CreatedBy names the program that made the torrent.
	CreatedBy string
	// CreationDate is when the torrent was made; zero when absent.
	CreationDate time.Time
	// PieceLayers are a v2 or hybrid torrent's BEP 52 piece layers; nil
	// for a v1 torrent. Parse checks them against Info.FileTree, and
	// Encode refuses layers that do not match it.
	PieceLayers PieceLayers

	infoBytes  []byte
	infoHash   InfoHash   // SHA-1 of infoBytes; zero for v2-only
	infoHashV2 InfoHashV2 // SHA-256 of infoBytes; zero for v1
	// extra keeps top-level keys this package does not interpret (BEP 5
	// nodes, ...) so re-encoding does not lose them.
	extra map[string]bencode.RawMessage
}

// Parse decodes a .torrent file. Errors about the content are *FieldError
// values naming the offending key.
func Parse(data []byte) (*Torrent, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("metainfo: %d bytes is larger than the %d-byte limit", len(data), MaxSize)
	}
	top, err := decodeTop(data)
	if err != nil {
		return nil, err
	}
	t := &Torrent{}
	raw, ok := top["info"]
	if !ok {
		return nil, fieldErr("info", "missing")
	}
	if t.Info, err = parseInfo(raw); err != nil {
		return nil, err
	}
	// The hash is over the bytes as they were in the file: the decoder
	// hands back the info value's original encoding, not a re-encoding.
	t.setInfoBytes(raw)

	// Sorted, so that a file with several bad keys always reports the same one.
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := top[k]
		switch k {
		case "info":
		case "announce":
			t.Announce, err = decodeString(k, v)
		case "announce-list":
			t.AnnounceList, err = decodeTiers(v)
		case "url-list":
			t.WebSeeds, err = decodeWebSeeds(v)
		case "comment":
			t.Comment, err = decodeString(k, v)
		case "created by":
			t.CreatedBy, err = decodeString(k, v)
		case "creation date":
			var sec int64
			if sec, err = decodeInt(k, v); err == nil {
				t.CreationDate = time.Unix(sec, 0).UTC()
			}
		case "piece layers":
			if !t.Info.HasV2() {
				// Meaningless without a file tree; kept as it was.
				t.keep(k, v)
				continue
			}
			t.PieceLayers, err = parsePieceLayers(v)
		default:
			t.keep(k, v)
		}
		if err != nil {
			return nil, err
		}
	}
	if t.Info.HasV2() {
		if t.PieceLayers == nil {
			t.PieceLayers = PieceLayers{}
		}
		if err := t.PieceLayers.check(&t.Info); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// keep stores a top-level key this package does not interpret.
func (t *Torrent) keep(k string, v bencode.RawMessage) {
	if t.extra == nil {
		t.extra = make(map[string]bencode.RawMessage)
	}
	t.extra[k] = v
}

// setInfoBytes records the encoded info dictionary and its info hashes.
func (t *Torrent) setInfoBytes(b []byte) {
	t.infoBytes = b
	t.infoHash, t.infoHashV2 = InfoHash{}, InfoHashV2{}
	if t.Info.HasV1() {
		t.infoHash = sha1.Sum(b)
	}
	if t.Info.HasV2() {
		t.infoHashV2 = sha256.Sum256(b)
	}
}

// decodeTop decodes the outer dictionary and refuses trailing bytes, which
// would otherwise let two different files carry the same torrent.
func decodeTop(data []byte) (map[string]bencode.RawMessage, error) {
	var top map[string]bencode.RawMessage
	trailing, err := decodeInto("torrent", data, "dictionary", &top)
	if err != nil {
		return nil, err
	}
	if trailing != 0 {
		return nil, fieldErr("torrent", "%d bytes after the end of the dictionary", trailing)
	}
	return top, nil
}

func decodeTiers(v []byte) ([][]string, error) {
	list, err := decodeList("announce-list", v)
	if err != nil {
		return nil, err
	}
	tiers := make([][]string, len(list))
	for i, tier := range list {
		if tiers[i], err = decodeStrings(fmt.Sprintf("announce-list[%d]", i), tier); err != nil {
			return nil, err
		}
	}
	return tiers, nil
}

// decodeWebSeeds accepts both forms BEP 19 allows: one URL, or a list.
func decodeWebSeeds(v []byte) ([]string, error) {
	if kind(v) == "string" {
		s, err := decodeString("url-list", v)
		if err != nil || s == "" {
			return nil, err
		}
		return []string{s}, nil
	}
	return decodeStrings("url-list", v)
}

// InfoHash returns the 20-byte info hash the torrent is known by in
// handshakes, announces and magnet links of the v1 protocol: the v1 info
// hash (SHA-1 of InfoBytes) of a v1 or hybrid torrent, and the truncated
// v2 info hash of a v2-only torrent, which v2 peers use in those places
// (BEP 52). A hybrid torrent's truncated v2 hash names a second swarm of
// the same torrent, the one v2 peers join: see InfoHashV2.
func (t *Torrent) InfoHash() InfoHash {
	if !t.Info.HasV1() {
		return t.infoHashV2.Truncate()
	}
	return t.infoHash
}

// InfoHashV1 returns the v1 info hash, the SHA-1 of InfoBytes, and whether
// the torrent has one (V1 and Hybrid).
func (t *Torrent) InfoHashV1() (InfoHash, bool) { return t.infoHash, t.Info.HasV1() }

// InfoHashV2 returns the v2 info hash, the SHA-256 of InfoBytes, and
// whether the torrent has one (V2 and Hybrid). Its Truncate is what v2
// peers put where a 20-byte info hash goes.
func (t *Torrent) InfoHashV2() (InfoHashV2, bool) { return t.infoHashV2, t.Info.HasV2() }

// InfoBytes returns the encoded info dictionary, exactly as in the file
// Parse read or as SetInfo encoded it. The caller must not modify it.
func (t *Torrent) InfoBytes() []byte { return t.infoBytes }

// SetInfo validates info, encodes it as the torrent's info dictionary and
// recomputes the info hashes. A v2 or hybrid info needs PieceLayers to
// match its file tree before Encode.
func (t *Torrent) SetInfo(info Info) error {
	info.Files = slices.Clone(info.Files)
	info.FileTree = slices.Clone(info.FileTree)
	if err := info.validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := bencode.Marshal(&buf, info.dict()); err != nil {
		return fmt.Errorf("metainfo: encode info: %w", err)
	}
	t.Info = info
	t.setInfoBytes(buf.Bytes())
	return nil
}

// Trackers returns the tracker tiers a client uses: AnnounceList when it
// names any tracker (BEP 12), else Announce alone. Empty tiers are dropped.
func (t *Torrent) Trackers() [][]string {
	var tiers [][]string
	for _, tier := range t.AnnounceList {
		var urls []string
		for _, u := range tier {
			if u != "" {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			tiers = append(tiers, urls)
		}
	}
	if len(tiers) == 0 && t.Announce != "" {
		tiers = [][]string{{t.Announce}}
	}
	return tiers
}

// Encode returns the .torrent file. The info dictionary is written as
// InfoBytes holds it, so the info hash never changes; other keys are written
// canonically (sorted keys; one web seed as a string, several as a list, as
// mktorrent and libtorrent do). Encoding a parsed canonical file gives back
// the same bytes.
func (t *Torrent) Encode() ([]byte, error) {
	if len(t.infoBytes) == 0 {
		return nil, fmt.Errorf("metainfo: torrent has no info dictionary (use SetInfo)")
	}
	d := make(map[string]any, len(t.extra)+8)
	for k, v := range t.extra {
		d[k] = v
	}
	d["info"] = bencode.RawMessage(t.infoBytes)
	if t.Announce != "" {
		d["announce"] = t.Announce
	}
	if t.AnnounceList != nil {
		d["announce-list"] = t.AnnounceList
	}
	switch len(t.WebSeeds) {
	case 0:
	case 1:
		d["url-list"] = t.WebSeeds[0]
	default:
		d["url-list"] = t.WebSeeds
	}
	if t.Comment != "" {
		d["comment"] = t.Comment
	}
	if t.CreatedBy != "" {
		d["created by"] = t.CreatedBy
	}
	if !t.CreationDate.IsZero() {
		d["creation date"] = t.CreationDate.Unix()
	}
	if t.Info.HasV2() {
		if err := t.PieceLayers.check(&t.Info); err != nil {
			return nil, err
		}
		// Written even when empty, as libtorrent does.
		d["piece layers"] = t.PieceLayers.dict()
	}
	var buf bytes.Buffer
	if err := bencode.Marshal(&buf, d); err != nil {
		return nil, fmt.Errorf("metainfo: encode torrent: %w", err)
	}
	return buf.Bytes(), nil
}

// Load reads and parses a .torrent file, refusing files over MaxSize before
// reading them whole.
func Load(path string) (*Torrent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
