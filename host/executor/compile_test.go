package executor

import (
	"strings"
	"testing"
)

func TestSelectedFollowsAnsibleTagRules(t *testing.T) {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	for _, tc := range []struct {
		tags, only, skip string
		want             bool
	}{
		{"", "", "", true},
		{"web", "", "", true},
		{"never", "", "", false},
		{"never,web", "web", "", true},
		{"always", "web", "", true},
		{"db", "web", "", false},
		{"", "untagged", "", true},
		{"web", "untagged", "", false},
		{"web", "tagged", "", true},
		{"", "tagged", "", false},
		{"web", "", "web", false},
		{"always", "", "all", true},
		{"web", "", "all", false},
		{"always", "", "all,always", false},
		{"always", "", "always", false},
		{"web", "", "tagged", false},
		{"", "", "tagged", true},
		{"web,db", "db", "web", false},
		{"always", "", "slow", true},
	} {
		if got := Selected(split(tc.tags), split(tc.only), split(tc.skip)); got != tc.want {
			t.Errorf("Selected(tags %q, --tags %q, --skip-tags %q) = %v, want %v", tc.tags, tc.only, tc.skip, got, tc.want)
		}
	}
}

func TestBatchSize(t *testing.T) {
	for _, tc := range []struct {
		v     any
		total int
		want  int
		err   bool
	}{
		{2, 10, 2, false},
		{"3", 10, 3, false},
		{"30%", 10, 3, false},
		{"25%", 3, 1, false},
		{"0%", 10, 1, false},
		{"x", 10, 0, true},
		{"x%", 10, 0, true},
	} {
		got, err := batchSize(tc.v, tc.total)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("batchSize(%v, %d) = %d, %v; want %d (error %v)", tc.v, tc.total, got, err, tc.want, tc.err)
		}
	}
}
