package metainfo

import "fmt"

// FieldError reports a metainfo field whose value is missing or invalid.
// Field names the key as a path through the torrent's dictionaries, such as
// "info.files[2].path[0]" or "announce-list[1][0]".
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("metainfo: %s: %v", e.Field, e.Err) }

// Unwrap returns the underlying cause.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}
