package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// textReport is a run's report that can also write itself for people.
type textReport interface {
	WriteText(w io.Writer) error
}

// writeReport prints a run's report as indented JSON (for machines) or as
// text.
func writeReport(w io.Writer, asJSON bool, rep textReport) error {
	var err error
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(w)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}
