package content

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/seeder/resume"
	"github.com/bitorigin/bitorigin/seeder/storage"
)

// Progress reports the progress of one long job (hashing a torrent's data):
// Update with bytes done and total, then Finish.
type Progress interface {
	Update(done, total int64)
	Finish()
}

// LoadConfig says where a content folder and its torrents are.
type LoadConfig struct {
	// DataDir holds the content: each top-level file or folder is one
	// torrent. Names starting with a dot are skipped.
	DataDir string
	// TorrentDir holds the .torrent files: an existing one whose files
	// match the data is used, otherwise NAME.torrent is created.
	TorrentDir string
	// ResumeDir holds the resume records (TorrentDir/.resume when empty).
	ResumeDir string
	// Trackers are written into created torrents, and replace the
	// trackers of existing ones when they differ (the info hash stays).
	Trackers [][]string
	// WebSeeds are BEP 19 url-list entries (base URLs ending in '/', to
	// which clients append the torrent's name and file paths) written into
	// created torrents, and replacing the url-list of existing ones when
	// it differs (the url-list is outside the info dictionary: the info
	// hash stays).
	WebSeeds []string
	// PieceLength of created torrents; 0 picks metainfo.AutoPieceLength.
	PieceLength int64
	// Version of created torrents: V1 (the zero value, for every client),
	// Hybrid or V2 (see metainfo.CreateOptions). An existing .torrent that
	// matches the data is used whatever its version, one of this version
	// first when several match.
	Version metainfo.Version
	// V1Twin publishes beside every hybrid torrent served its v1-only
	// twin (see metainfo.CreateHybrid): a plain v1 torrent of the same
	// files, without padding, for the clients that cannot join a hybrid's
	// swarm (Transmission 3.00 refuses the file, aria2 1.36 computes a
	// wrong v1 info hash). A twin in the torrent folder (an existing
	// .torrent with the hybrid's files, IsTwinOf) is verified as any
	// torrent; otherwise it is made, in the same read of the data when
	// the hybrid is made too, and written beside the hybrid's .torrent
	// with .v1.torrent for .torrent.
	V1Twin bool
	// Workers hash in parallel; 0 means one per core.
	Workers int
	// MaxOpenFiles bounds each torrent's open file handles.
	MaxOpenFiles int
	// Progress, when set, returns a progress display for a job.
	Progress func(label string) Progress
	// Metrics, when set, follows the preparation of the torrents and the
	// hashing.
	Metrics *Metrics
	Logger  *slog.Logger
}

// Load prepares every torrent of the content folder: it finds or creates
// the .torrent, verifies the data (or trusts the resume record for files
// that did not change) and logs one line per torrent. An entry that cannot
// be prepared is logged and skipped; Load fails only when none is left or
// the folders are unusable.
func Load(ctx context.Context, cfg LoadConfig) ([]*Torrent, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	if err := os.MkdirAll(cfg.TorrentDir, 0o755); err != nil {
		return nil, fmt.Errorf("torrent folder: %w", err)
	}
	existing, err := loadTorrentDir(cfg.TorrentDir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return strings.HasPrefix(e.Name(), ".") })
	m := cfg.Metrics
	m.TorrentsQueued(len(entries))
	var out []*Torrent
	seen := map[metainfo.InfoHash]string{}
	for _, e := range entries {
		m.TorrentVerifying()
		ts, err := loadOne(ctx, cfg, e.Name(), existing)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			m.TorrentPrepared(false)
			cfg.Logger.Error("torrent skipped", "name", e.Name(), "err", err)
			continue
		}
		if other, dup := FirstSeen(seen, ts); dup {
			m.TorrentPrepared(false)
			cfg.Logger.Error("torrent skipped: same info hash as another entry", "name", e.Name(), "other", other)
			CloseAll(ts)
			continue
		}
		m.TorrentPrepared(true)
		for _, t := range ts {
			seen[t.InfoHash()] = e.Name()
		}
		out = append(out, ts...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no torrent to serve in %s", cfg.DataDir)
	}
	return out, nil
}

// FirstSeen returns the entry that has the info hash of one of ts
// already, by the entries seen before: no two entries may be served as
// one torrent.
func FirstSeen(seen map[metainfo.InfoHash]string, ts []*Torrent) (string, bool) {
	for _, t := range ts {
		if other, dup := seen[t.InfoHash()]; dup {
			return other, true
		}
	}
	return "", false
}

// CloseAll closes torrents not handed to a seeder.
func CloseAll(ts []*Torrent) {
	for _, t := range ts {
		t.Close()
	}
}

// torrentFile is a .torrent found in the torrent folder.
type torrentFile struct {
	path string
	meta *metainfo.Torrent
}

// loadTorrentDir reads every .torrent in dir, indexed by the name in its
// info dictionary. Unreadable files are logged and ignored.
func loadTorrentDir(dir string, log *slog.Logger) (map[string][]torrentFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.torrent"))
	if err != nil {
		return nil, err
	}
	byName := map[string][]torrentFile{}
	for _, p := range paths {
		m, err := metainfo.Load(p)
		if err != nil {
			log.Warn("ignoring unreadable torrent", "path", p, "err", err)
			continue
		}
		byName[m.Info.Name] = append(byName[m.Info.Name], torrentFile{path: p, meta: m})
	}
	return byName, nil
}

// Resolve makes the folders of cfg absolute, so that a change of working
// folder cannot move them, and sets ResumeDir when empty.
func (cfg *LoadConfig) Resolve() error {
	var err error
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return err
	}
	if cfg.TorrentDir, err = filepath.Abs(cfg.TorrentDir); err != nil {
		return err
	}
	if cfg.ResumeDir == "" {
		cfg.ResumeDir = filepath.Join(cfg.TorrentDir, ".resume")
	}
	return nil
}

// LoadEntry prepares, as Load does, the torrents of the content entry
// name, given a cfg that was resolved (Resolve) and has a Logger: the
// torrent folder is read again, for the .torrent files added since.
func LoadEntry(ctx context.Context, cfg LoadConfig, name string) ([]*Torrent, error) {
	existing, err := loadTorrentDir(cfg.TorrentDir, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return loadOne(ctx, cfg, name, existing)
}

// loadOne prepares the torrent of one content entry, and with cfg.V1Twin
// the v1-only twin of a hybrid one, which comes second.
func loadOne(ctx context.Context, cfg LoadConfig, name string, existing map[string][]torrentFile) ([]*Torrent, error) {
	path := filepath.Join(cfg.DataDir, name)
	files, err := listFiles(path)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var tf *torrentFile
	twins := cfg.V1Twin && cfg.Version == metainfo.Hybrid
	for i, c := range existing[name] {
		if twins && isTwinPath(c.path) {
			// A twin this seeder wrote stands beside its hybrid; alone
			// (the hybrid's .torrent lost), it is made again with it.
			continue
		}
		if sameFiles(&c.meta.Info, files) && (tf == nil || c.meta.Info.Version() == cfg.Version && tf.meta.Info.Version() != cfg.Version) {
			tf = &existing[name][i]
		}
	}
	store := resume.Store{Dir: cfg.ResumeDir}
	if tf == nil {
		ts, err := create(ctx, cfg, path, name, files, store)
		for _, t := range ts {
			cfg.Logger.Info("torrent created", "name", name, "info_hash", t.InfoHash().String(), "torrent", t.Path,
				"size", t.Meta.Info.TotalLength(), "pieces", t.numPieces, "took", time.Since(start).Round(time.Millisecond))
		}
		logTwin(cfg, ts)
		return ts, err
	}
	if err := updateTrackers(tf, cfg.Trackers, cfg.WebSeeds, cfg.Logger); err != nil {
		return nil, err
	}
	t, err := verify(ctx, cfg, tf, store)
	if err != nil {
		return nil, err
	}
	if !cfg.V1Twin || t.Meta.Info.Version() != metainfo.Hybrid {
		return []*Torrent{t}, nil
	}
	twin, err := loadTwin(ctx, cfg, t, path, existing[name], store)
	if err != nil {
		if ctx.Err() != nil {
			t.Close()
			return nil, ctx.Err()
		}
		// The hybrid's own clients need not wait for its twin.
		cfg.Logger.Error("v1-only twin not published; serving the hybrid alone", "name", name, "err", err)
		return []*Torrent{t}, nil
	}
	ts := []*Torrent{t, twin}
	logTwin(cfg, ts)
	return ts, nil
}

// loadTwin finds the v1-only twin of a verified hybrid among the torrents
// of its name and verifies it, or makes it from the data.
func loadTwin(ctx context.Context, cfg LoadConfig, hybrid *Torrent, path string, candidates []torrentFile, store resume.Store) (*Torrent, error) {
	for i, c := range candidates {
		if !c.meta.Info.IsTwinOf(&hybrid.Meta.Info) {
			continue
		}
		if err := updateTrackers(&candidates[i], cfg.Trackers, cfg.WebSeeds, cfg.Logger); err != nil {
			return nil, err
		}
		t, err := verify(ctx, cfg, &candidates[i], store)
		if err == nil {
			t.TwinOf = hybrid.InfoHash()
		}
		return t, err
	}
	start := time.Now()
	before := statFiles(&hybrid.Meta.Info, cfg.DataDir)
	job := cfg.startHashing("hashing the v1 twin of " + hybrid.Name())
	meta, err := metainfo.CreateTwin(ctx, hybrid.Meta, path, cfg.Workers, job.Update)
	job.Finish()
	if err != nil {
		return nil, err
	}
	t, err := publishCreated(ctx, cfg, meta, twinPath(hybrid.Path), before, store)
	if err != nil {
		return nil, err
	}
	t.TwinOf = hybrid.InfoHash()
	cfg.Logger.Info("torrent created", "name", t.Name(), "info_hash", t.InfoHash().String(), "torrent", t.Path,
		"size", t.Meta.Info.TotalLength(), "pieces", t.numPieces, "took", time.Since(start).Round(time.Millisecond))
	return t, nil
}

// twinSuffix ends the file name of a v1-only twin: NAME.v1.torrent beside
// the hybrid's NAME.torrent.
const twinSuffix = ".v1.torrent"

// twinPath is where the v1-only twin of the hybrid torrent at path is
// written.
func twinPath(path string) string { return strings.TrimSuffix(path, ".torrent") + twinSuffix }

// isTwinPath reports whether path is named as a v1-only twin.
func isTwinPath(path string) bool { return strings.HasSuffix(path, twinSuffix) }

// logTwin logs the v1-only twin in ts, if any, with its magnet link.
func logTwin(cfg LoadConfig, ts []*Torrent) {
	for _, t := range ts {
		if t.TwinOf != (metainfo.InfoHash{}) {
			cfg.Logger.Info("v1-only twin of a hybrid torrent, for clients without BitTorrent v2", "name", t.Name(),
				"info_hash", t.InfoHash().String(), "twin_of", t.TwinOf.String(), "torrent", t.Path,
				"magnet", t.Meta.Magnet().String())
		}
	}
}

// fileSet maps a torrent's file paths (slash-separated, below the name)
// to their sizes; a single-file torrent has the one path "".
type fileSet map[string]int64

// listFiles lists the file or folder at path as fileSet.
func listFiles(path string) (fileSet, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().IsRegular() {
		return fileSet{"": st.Size()}, nil
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a regular file or a folder", path)
	}
	files := fileSet{}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(path, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = fi.Size()
		return nil
	})
	return files, err
}

// sameFiles reports whether info describes exactly these files and sizes.
func sameFiles(info *metainfo.Info, files fileSet) bool {
	n := 0
	for _, f := range info.FileList() {
		if f.IsPadding() {
			continue
		}
		size, ok := files[strings.Join(f.Path, "/")]
		if !ok || size != f.Length {
			return false
		}
		n++
	}
	return n == len(files)
}

// create makes NAME.torrent in the torrent folder from the data, and with
// cfg.V1Twin for a hybrid, NAME.v1.torrent, its v1-only twin, from the
// same read. The hashing doubles as verification: when no file changed
// meanwhile, every piece is known good and recorded so.
func create(ctx context.Context, cfg LoadConfig, path, name string, files fileSet, store resume.Store) ([]*Torrent, error) {
	before := map[string]storage.FileStat{}
	for rel := range files {
		p := filepath.Join(path, filepath.FromSlash(rel))
		if st := storage.StatFile(p); st.Err == nil {
			before[p] = st
		}
	}
	opts := metainfo.CreateOptions{
		Version:     cfg.Version,
		Trackers:    cfg.Trackers,
		WebSeeds:    cfg.WebSeeds,
		PieceLength: cfg.PieceLength,
		CreatedBy:   version.Name + "/" + version.Version,
		Workers:     cfg.Workers,
	}
	job := cfg.startHashing("hashing " + name)
	opts.Progress = job.Update
	var (
		meta, twin *metainfo.Torrent
		err        error
	)
	if cfg.V1Twin && cfg.Version == metainfo.Hybrid {
		meta, twin, err = metainfo.CreateHybrid(ctx, path, opts)
	} else {
		meta, err = metainfo.Create(ctx, path, opts)
	}
	job.Finish()
	if err != nil {
		return nil, err
	}
	out := filepath.Join(cfg.TorrentDir, name+".torrent")
	t, err := publishCreated(ctx, cfg, meta, out, before, store)
	if err != nil {
		return nil, err
	}
	if twin == nil {
		return []*Torrent{t}, nil
	}
	tw, err := publishCreated(ctx, cfg, twin, twinPath(out), before, store)
	if err != nil {
		t.Close()
		return nil, err
	}
	tw.TwinOf = t.InfoHash()
	return []*Torrent{t, tw}, nil
}

// statFiles returns the stats of info's files in root by path, for
// publishCreated.
func statFiles(info *metainfo.Info, root string) map[string]storage.FileStat {
	out := map[string]storage.FileStat{}
	for _, st := range storage.Stat(info, root) {
		if st.Err == nil {
			out[st.Path] = st
		}
	}
	return out
}

// publishCreated writes a torrent just made from the data to out and
// returns it ready to serve, every piece good, unless a file changed since
// before (its stats before hashing) and so may not match: then it is
// verified.
func publishCreated(ctx context.Context, cfg LoadConfig, meta *metainfo.Torrent, out string, before map[string]storage.FileStat, store resume.Store) (*Torrent, error) {
	data, err := meta.Encode()
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(out, data); err != nil {
		return nil, err
	}
	// The Torrent examines the files before the stats below: a change
	// after them invalidates its pieces.
	have := FullBitfield(meta)
	t := NewTorrent(meta, out, cfg.DataDir, have, cfg.MaxOpenFiles)
	after := storage.Stat(&meta.Info, cfg.DataDir)
	for _, st := range after {
		if st != before[st.Path] {
			t.Close()
			cfg.Logger.Warn("data changed while creating the torrent; verifying", "name", meta.Info.Name, "file", st.Path)
			return verify(ctx, cfg, &torrentFile{path: out, meta: meta}, store)
		}
	}
	if err := store.Save(record(meta, after, have)); err != nil {
		cfg.Logger.Warn("resume record not saved", "name", meta.Info.Name, "err", err)
	}
	return t, nil
}

// hashJob reports the progress of one hashing job (creating or verifying
// a torrent) to the progress display and the metrics.
type hashJob struct {
	bar  Progress // may be nil
	m    *Metrics
	done int64
}

func (cfg LoadConfig) startHashing(label string) *hashJob {
	j := &hashJob{m: cfg.Metrics}
	if cfg.Progress != nil {
		j.bar = cfg.Progress(label)
	}
	return j
}

// Update records done of total bytes hashed.
func (j *hashJob) Update(done, total int64) {
	if j.bar != nil {
		j.bar.Update(done, total)
	}
	j.m.hashProgress(done-j.done, total-done)
	j.done = done
}

// Finish ends the job.
func (j *hashJob) Finish() {
	if j.bar != nil {
		j.bar.Finish()
	}
	j.m.hashProgress(0, 0)
}

// updateTrackers rewrites an existing torrent whose trackers or web seeds
// differ from the configured ones (none configured keeps the torrent's);
// the info dictionary, and so the info hash, stays.
func updateTrackers(tf *torrentFile, tiers [][]string, webSeeds []string, log *slog.Logger) error {
	newTiers := len(tiers) > 0 && !slices.EqualFunc(tf.meta.Trackers(), tiers, slices.Equal)
	newSeeds := len(webSeeds) > 0 && !slices.Equal(tf.meta.WebSeeds, webSeeds)
	if !newTiers && !newSeeds {
		return nil
	}
	if newTiers {
		tf.meta.Announce = tiers[0][0]
		tf.meta.AnnounceList = tiers
		if len(tiers) == 1 && len(tiers[0]) == 1 {
			tf.meta.AnnounceList = nil
		}
	}
	if newSeeds {
		tf.meta.WebSeeds = slices.Clone(webSeeds)
	}
	data, err := tf.meta.Encode()
	if err != nil {
		return err
	}
	if err := writeAtomic(tf.path, data); err != nil {
		return err
	}
	log.Info("torrent trackers or web seeds updated", "torrent", tf.path, "trackers", tf.meta.Trackers(), "web_seeds", tf.meta.WebSeeds)
	return nil
}

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// record builds the resume record of a verification.
func record(meta *metainfo.Torrent, stats []storage.FileStat, have interface{ Bytes() []byte }) *resume.Record {
	r := &resume.Record{
		InfoHash: meta.InfoHash().String(),
		Pieces:   uint32(meta.Info.NumPieces()),
		Have:     slices.Clone(have.Bytes()),
	}
	for _, st := range stats {
		r.Files = append(r.Files, resumeFile(st))
	}
	return r
}
