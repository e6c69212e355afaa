package metainfo

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// benchFile writes a file of size bytes once per benchmark.
func benchFile(b *testing.B, size int64) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "data")
	testenv.WriteRandomFile(b, path, size, 1)
	return path
}

// BenchmarkCreate measures hashing throughput on every core, from the page
// cache (the file was just written), for several piece lengths.
func BenchmarkCreate(b *testing.B) {
	path := benchFile(b, 256<<20)
	for _, pl := range []int64{256 << 10, 1 << 20, 4 << 20} {
		b.Run("piece="+strconv.FormatInt(pl>>10, 10)+"K", func(b *testing.B) {
			b.SetBytes(256 << 20)
			for b.Loop() {
				if _, err := Create(context.Background(), path, CreateOptions{PieceLength: pl}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateManyFiles measures a folder of small files, where opening
// files and pieces that span them cost more than hashing.
func BenchmarkCreateManyFiles(b *testing.B) {
	root := filepath.Join(b.TempDir(), "many")
	for i := range 1000 {
		testenv.WriteRandomFile(b, filepath.Join(root, strconv.Itoa(i%10), strconv.Itoa(i)), 30000+int64(i), uint64(i))
	}
	b.SetBytes(1000*30000 + 999*1000/2)
	for b.Loop() {
		if _, err := Create(context.Background(), root, CreateOptions{PieceLength: 256 << 10}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures checking intact data, the seeder's startup cost.
func BenchmarkVerify(b *testing.B) {
	path := benchFile(b, 256<<20)
	tor, err := Create(context.Background(), path, CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(256 << 20)
	for b.Loop() {
		res, err := Verify(context.Background(), &tor.Info, filepath.Dir(path), VerifyOptions{})
		if err != nil || !res.Complete() {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures parsing a torrent of 10,000 files and 40,000
// pieces (about 1.3 MB).
func BenchmarkParse(b *testing.B) {
	info := Info{Name: "big", PieceLength: 1 << 20}
	for i := range 10000 {
		info.Files = append(info.Files, File{Path: []string{"dir" + strconv.Itoa(i/100), "file" + strconv.Itoa(i)}, Length: 4 << 20})
	}
	info.Pieces = make([]byte, 40000*HashSize)
	tor := &Torrent{Announce: "http://t/announce"}
	if err := tor.SetInfo(info); err != nil {
		b.Fatal(err)
	}
	data, err := tor.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateHybridTwin measures what the v1-only twin adds to making a
// hybrid torrent of a folder whose files need padding: hybrid alone, the
// hybrid and its twin in one read (CreateHybrid), and the twin hashed
// afterwards from the data (CreateTwin, a second read).
func BenchmarkCreateHybridTwin(b *testing.B) {
	root := filepath.Join(b.TempDir(), "release")
	const files = 8
	for i := range files {
		testenv.WriteRandomFile(b, filepath.Join(root, strconv.Itoa(i)), 16<<20+int64(i)*12345, uint64(i))
	}
	size := int64(files*16<<20 + files*(files-1)/2*12345)
	opts := CreateOptions{PieceLength: 1 << 20}
	b.Run("hybrid", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := Create(context.Background(), root, CreateOptions{Version: Hybrid, PieceLength: 1 << 20}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hybrid+twin", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, _, err := CreateHybrid(context.Background(), root, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	hybrid, err := Create(context.Background(), root, CreateOptions{Version: Hybrid, PieceLength: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("twin-afterwards", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, err := CreateTwin(context.Background(), hybrid, root, 0, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
