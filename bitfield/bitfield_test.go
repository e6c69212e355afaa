package bitfield

import (
	"bytes"
	"errors"
	"testing"
)

func TestSetHasClearFollowTheBEP3BitOrder(t *testing.T) {
	f := New(10)
	f.Set(0)
	f.Set(9)
	if want := []byte{0x80, 0x40}; !bytes.Equal(f.Bytes(), want) {
		t.Fatalf("Bytes() = %x, want %x", f.Bytes(), want)
	}
	for i := uint32(0); i < 10; i++ {
		if got, want := f.Has(i), i == 0 || i == 9; got != want {
			t.Errorf("Has(%d) = %v, want %v", i, got, want)
		}
	}
	f.Clear(0)
	if f.Has(0) || f.Count() != 1 {
		t.Fatalf("after Clear(0): Has(0) = %v, Count() = %d", f.Has(0), f.Count())
	}
}

func TestHasIsFalseOutOfRange(t *testing.T) {
	f := New(3)
	f.SetAll()
	for _, i := range []uint32{3, 7, 8, 1 << 31, ^uint32(0)} {
		if f.Has(i) {
			t.Errorf("Has(%d) = true on a bitfield of 3", i)
		}
	}
	var zero Bitfield
	if zero.Has(0) || zero.Count() != 0 || zero.Len() != 0 || !zero.All() {
		t.Error("zero Bitfield is not an empty bitfield of length 0")
	}
}

func TestSetPanicsOutOfRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Set(3) on a bitfield of 3 did not panic")
		}
	}()
	New(3).Set(3)
}

func TestSetAllLeavesSpareBitsZero(t *testing.T) {
	for _, tc := range []struct {
		n    uint32
		want []byte
	}{
		{0, []byte{}},
		{1, []byte{0x80}},
		{7, []byte{0xfe}},
		{8, []byte{0xff}},
		{9, []byte{0xff, 0x80}},
		{20, []byte{0xff, 0xff, 0xf0}},
	} {
		f := New(tc.n)
		f.SetAll()
		if !bytes.Equal(f.Bytes(), tc.want) {
			t.Errorf("New(%d).SetAll() = %x, want %x", tc.n, f.Bytes(), tc.want)
		}
		if f.Count() != tc.n || !f.All() {
			t.Errorf("New(%d).SetAll(): Count() = %d, All() = %v", tc.n, f.Count(), f.All())
		}
		if err := Validate(f.Bytes(), tc.n); err != nil {
			t.Errorf("Validate(SetAll of %d) = %v", tc.n, err)
		}
	}
}

func TestValidateRejectsWrongLengthAndSpareBits(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		n    uint32
		want error
	}{
		{"too short", []byte{0xff}, 9, ErrLength},
		{"too long", []byte{0xff, 0x00}, 8, ErrLength},
		{"empty for one piece", nil, 1, ErrLength},
		{"last spare bit", []byte{0xff, 0x01}, 9, ErrSpareBits},
		{"first spare bit", []byte{0x40}, 1, ErrSpareBits},
		{"valid", []byte{0xff, 0x80}, 9, nil},
		{"valid, no spare bits", []byte{0xff}, 8, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.b, tc.n)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Validate(%x, %d) = %v, want %v", tc.b, tc.n, err, tc.want)
			}
			f, err := FromBytes(tc.b, tc.n)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("FromBytes(%x, %d) = %v, want %v", tc.b, tc.n, err, tc.want)
			}
			if err == nil && !bytes.Equal(f.Bytes(), tc.b) {
				t.Fatalf("FromBytes(%x).Bytes() = %x", tc.b, f.Bytes())
			}
		})
	}
}

func TestFromBytesCopies(t *testing.T) {
	b := []byte{0x80}
	f, err := FromBytes(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 0
	if !f.Has(0) {
		t.Fatal("changing the input changed the bitfield")
	}
}
