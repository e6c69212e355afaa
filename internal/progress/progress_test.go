package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLineShowsPercentBarSizesAndRate(t *testing.T) {
	got := Line("hashing", 512<<20, 1<<30, 2*time.Second)
	want := "hashing  50% [===============>              ] 512.0 MiB / 1.0 GiB  256.0 MiB/s"
	if got != want {
		t.Fatalf("Line() =\n%q, want\n%q", got, want)
	}
	if got := Line("x", 10, 10, 0); !strings.Contains(got, "100% [==============================]") {
		t.Fatalf("complete Line() = %q", got)
	}
}

func TestFormatSizeUsesBinaryUnits(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{256 << 10, "256.0 KiB"},
		{3 << 29, "1.5 GiB"},
		{1 << 62, "4.0 EiB"},
	}
	for _, tt := range tests {
		if got := FormatSize(tt.n); got != tt.want {
			t.Errorf("FormatSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestBarStaysQuietWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "hashing")
	b.Update(1, 2)
	b.Update(2, 2)
	b.Finish()
	if buf.Len() != 0 {
		t.Fatalf("bar wrote %q to a non-terminal", buf.String())
	}
}

func TestBarThrottlesRedrawsAndEndsItsLine(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	b := newBar(&buf, "hashing", func() time.Time { return now })
	for i := int64(1); i <= 100; i++ {
		now = now.Add(time.Millisecond)
		b.Update(i, 100)
	}
	b.Finish()
	// Drawn at the first update, once 100 ms later (the last, complete,
	// one always draws), then once more by Finish.
	if n := strings.Count(buf.String(), "\r"); n != 3 {
		t.Fatalf("drew %d times, want 3: %q", n, buf.String())
	}
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("Finish did not end the line: %q", buf.String())
	}
}
