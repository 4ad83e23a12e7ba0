package main

import (
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/google/uuid"
)

// newJobID returns the run's job ID: the one given (--job-id, else TALLY_JOB_ID), or a new
// UUIDv7, which sorts by creation time.
func newJobID(given string) (string, error) {
	if given == "" {
		given = os.Getenv("TALLY_JOB_ID")
	}
	if given == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return "", fmt.Errorf("make a job ID: %w", err)
		}
		return id.String(), nil
	}
	if err := validJobID(given); err != nil {
		return "", err
	}
	return given, nil
}

// validJobID checks a given job ID: it names files (artifacts/<job_id>/), so 1 to 128 printable
// characters and no path separator.
func validJobID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("invalid job ID %q: it must be 1 to 128 characters", id)
	}
	if id == "." || id == ".." {
		return fmt.Errorf("invalid job ID %q: it names a directory", id)
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("invalid job ID %q: it must be printable characters", id)
		}
	}
	if strings.ContainsAny(id, `/\`) {
		return fmt.Errorf("invalid job ID %q: it must not contain a path separator", id)
	}
	return nil
}
