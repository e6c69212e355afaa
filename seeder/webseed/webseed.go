// Package webseed serves the origin's torrents over HTTP for BEP 19 web
// seeds: a torrent's url-list names a base URL ending in '/', and clients
// fetch BASE/NAME for a single-file torrent and BASE/NAME/PATH for each
// file of a multi-file one, with Range requests.
//
// Only files of torrents the seeder serves are reachable: a request names
// a torrent and one of its files, never a folder (there is no listing),
// and files are opened through an os.Root of the torrent's data folder, so
// a symbolic link cannot lead outside it.
package webseed

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/seeder/content"
)

// DefaultWriteTimeout is how long a client may take to accept one chunk
// of a response before it is dropped.
const DefaultWriteTimeout = 60 * time.Second

// Config sets up a Handler.
type Config struct {
	// Prefix is the path of the web seed URL, ending in '/'; "/" when
	// empty.
	Prefix string
	// Lookup returns the served torrent of a name (its info dictionary's
	// name), or nil.
	Lookup func(name string) *content.Torrent
	// WriteTimeout bounds each write of a response: a client that stops
	// reading is dropped, however long the whole response takes
	// (DefaultWriteTimeout when 0).
	WriteTimeout time.Duration
	Logger       *slog.Logger
}

// Handler serves the files of the torrents Config.Lookup finds.
type Handler struct {
	cfg Config
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "/"
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("web seed path %q: must start and end with '/'", cfg.Prefix)
	}
	if cfg.Lookup == nil {
		return nil, errors.New("web seed: no torrent lookup")
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg}, nil
}

// ServeHTTP answers GET and HEAD of one file of a served torrent, with
// Range, Content-Length, ETag and Last-Modified (http.ServeContent handles
// the conditional and range headers).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	t, rel, ok := h.resolve(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	length, _ := t.File(rel)
	if !t.Complete() {
		// Bytes of a piece that failed verification would fail the
		// client's check too; the torrent is served to peers piece by
		// piece only.
		http.Error(w, "torrent not fully verified", http.StatusNotFound)
		return
	}
	name := t.Name()
	if rel != "" {
		name += "/" + rel
	}
	f, fi, err := open(t.Root, name, length)
	if err == nil && !t.FileServable(rel, fi) {
		f.Close()
		err = fmt.Errorf("%s: changed on disk since it was verified", name)
	}
	if err != nil {
		h.cfg.Logger.Warn("web seed cannot serve file", "name", t.Name(), "file", name, "err", err)
		http.Error(w, "file unavailable", http.StatusServiceUnavailable)
		return
	}
	defer f.Close()
	h.cfg.Logger.Debug("web seed request", "method", r.Method, "file", name, "range", r.Header.Get("Range"),
		"client", r.UserAgent(), "remote", r.RemoteAddr)
	hdr := w.Header()
	// Size and modification time change whenever the file does, as
	// nginx's ETag assumes too.
	mod := fi.ModTime()
	hdr.Set("ETag", fmt.Sprintf(`"%x-%x"`, mod.UnixNano(), length))
	hdr.Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", mod, &deadlineReader{f: f, rc: http.NewResponseController(w), timeout: h.cfg.WriteTimeout,
		servable: func(fi os.FileInfo) bool { return t.FileServable(rel, fi) }})
}

// resolve maps a URL path to a served torrent and one of its files ("" for
// a single-file torrent's file).
func (h *Handler) resolve(p string) (*content.Torrent, string, bool) {
	rest, ok := strings.CutPrefix(p, h.cfg.Prefix)
	if !ok || rest == "" {
		return nil, "", false
	}
	name, rel, _ := strings.Cut(rest, "/")
	if path.Clean("/"+rest) != "/"+rest {
		return nil, "", false // dot segments, doubled or trailing slashes
	}
	t := h.cfg.Lookup(name)
	if t == nil {
		return nil, "", false
	}
	if _, ok := t.File(rel); !ok {
		return nil, "", false
	}
	return t, rel, true
}

// open opens name (slash-separated) inside root, refusing anything but a
// regular file of the expected length, and returns it with what Stat
// says of it.
func open(root, name string, length int64) (*os.File, os.FileInfo, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close() // the opened file stays valid
	f, err := r.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	switch {
	case err != nil:
	case !st.Mode().IsRegular():
		err = fmt.Errorf("%s: not a regular file", name)
	case st.Size() != length:
		err = fmt.Errorf("%s: %d bytes, the torrent says %d: changed on disk", name, st.Size(), length)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// checkInterval is how often, at most, a response in progress examines
// its file again.
const checkInterval = time.Second

// errChanged cuts a response whose file changed while it was sent: the
// client sees a short body and tries again, rather than get bytes that
// fail its piece check.
var errChanged = errors.New("web seed: file changed on disk while being sent")

// deadlineReader moves the response's write deadline forward before each
// read of the file, so each chunk has WriteTimeout to reach the client
// however long the whole response takes. Once a checkInterval it examines
// the file again and stops the response if it may no longer be served.
type deadlineReader struct {
	f        *os.File
	rc       *http.ResponseController
	timeout  time.Duration
	servable func(os.FileInfo) bool
	checked  time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	now := time.Now()
	if err := d.rc.SetWriteDeadline(now.Add(d.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	if now.Sub(d.checked) >= checkInterval {
		d.checked = now
		if fi, err := d.f.Stat(); err != nil || !d.servable(fi) {
			return 0, errChanged
		}
	}
	return d.f.Read(p)
}

func (d *deadlineReader) Seek(offset int64, whence int) (int64, error) {
	return d.f.Seek(offset, whence)
}

var _ io.ReadSeeker = (*deadlineReader)(nil)
