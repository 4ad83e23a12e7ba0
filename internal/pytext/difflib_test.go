package pytext

import (
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestUnifiedDiffMatchesPython diffs random line lists (small alphabets, so that lines repeat;
// long ones, so that difflib's junk heuristic applies) with UnifiedDiff and with Python's
// difflib.unified_diff, and requires the same lines.
func TestUnifiedDiffMatchesPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3, the reference, is not installed")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lines := func(n, alphabet int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a'+rng.IntN(alphabet))) + "\n"
		}
		return out
	}
	type pair struct{ A, B []string }
	var cases []pair
	cases = append(cases, pair{nil, nil}, pair{nil, []string{"x\n"}}, pair{[]string{"x\n"}, nil},
		pair{[]string{"a\n", "b\n"}, []string{"a\n", "b\n"}})
	for range 150 {
		a := lines(rng.IntN(30), 1+rng.IntN(6))
		b := slices.Clone(a)
		for range rng.IntN(5) {
			if len(b) > 0 && rng.IntN(2) == 0 {
				i := rng.IntN(len(b))
				b = slices.Delete(b, i, i+1)
			} else {
				i := rng.IntN(len(b) + 1)
				b = slices.Insert(b, i, string(rune('a'+rng.IntN(8)))+"\n")
			}
		}
		cases = append(cases, pair{a, b})
	}
	for range 10 {
		cases = append(cases, pair{lines(250+rng.IntN(100), 5), lines(250+rng.IntN(100), 40)})
	}
	in, _ := json.Marshal(cases)
	const script = `import difflib, json, sys
print(json.dumps([list(difflib.unified_diff(c["A"] or [], c["B"] or [], "before: x", "after", n=3)) for c in json.load(sys.stdin)]))`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var want [][]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		got := UnifiedDiff(c.A, c.B, "before: x", "after", 3)
		if !slices.Equal(got, want[i]) && !(len(got) == 0 && len(want[i]) == 0) {
			t.Errorf("case %d: a=%q b=%q\ngot  %q\nwant %q", i, c.A, c.B, got, want[i])
		}
	}
}

func TestSplitLinesKeepEnds(t *testing.T) {
	got := SplitLinesKeepEnds("a\nb\r\nc\rd")
	if want := []string{"a\n", "b\r\n", "c\r", "d"}; !slices.Equal(got, want) {
		t.Errorf("SplitLinesKeepEnds = %q, want %q", got, want)
	}
}
