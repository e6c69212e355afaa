package peerwire

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// unhex decodes hex written with spaces between fields for reading.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// readOne reads exactly one message from b and fails if more follows.
func readOne(t testing.TB, b []byte, cfg ReaderConfig) Message {
	t.Helper()
	r := NewReader(bytes.NewReader(b), cfg)
	m, err := r.ReadMessage()
	if err != nil {
		t.Fatalf("ReadMessage(%x): %v", b, err)
	}
	m = clone(m)
	if extra, err := r.ReadMessage(); err == nil {
		t.Fatalf("ReadMessage(%x): a second message %#v follows", b, extra)
	}
	return m
}

// clone copies a message the Reader returned so that it outlives the next
// read, turning nil slices into empty ones so that equal messages compare
// equal with reflect.DeepEqual however they were made.
func clone(m Message) Message {
	v := reflect.New(reflect.TypeOf(m).Elem())
	v.Elem().Set(reflect.ValueOf(m).Elem())
	s := v.Elem()
	for i := 0; i < s.NumField(); i++ {
		if f := s.Field(i); f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8 {
			f.SetBytes(append([]byte{}, f.Bytes()...))
		}
	}
	return v.Interface().(Message)
}
