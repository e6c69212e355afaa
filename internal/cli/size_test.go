package cli

import (
	"strings"
	"testing"
)

func TestParseSizeReadsBinaryUnitsAndRefusesTheRest(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string // part of the error; "" for none
	}{
		{in: "1", want: 1},
		{in: "16384", want: 16384},
		{in: "4096B", want: 4096},
		{in: "16K", want: 16 << 10},
		{in: "16k", want: 16 << 10},
		{in: "16KiB", want: 16 << 10},
		{in: "16kib", want: 16 << 10},
		{in: "3M", want: 3 << 20},
		{in: "3MiB", want: 3 << 20},
		{in: "2G", want: 2 << 30},
		{in: "2GiB", want: 2 << 30},
		{in: "4294967296G", want: 1 << 62},
		{in: "4294967297G", wantErr: "too large"},
		{in: "4611686018427387905", wantErr: "too large"},
		{in: "", wantErr: "positive whole number"},
		{in: "K", wantErr: "positive whole number"},
		{in: "0", wantErr: "positive whole number"},
		{in: "-1M", wantErr: "positive whole number"},
		{in: "1.5M", wantErr: "positive whole number"},
		{in: "99999999999999999999", wantErr: "positive whole number"},
		{in: "1T", wantErr: "positive whole number"},
		{in: "1KB", wantErr: `unknown unit "KB"`},
		{in: "1Gi", wantErr: `unknown unit "Gi"`},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		switch {
		case tt.wantErr == "" && (err != nil || got != tt.want):
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseSize(%q) = %d, %v; want an error with %q", tt.in, got, err, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), `"`+tt.in+`"`):
			t.Errorf("ParseSize(%q): error %q does not quote the input", tt.in, err)
		}
	}
}
