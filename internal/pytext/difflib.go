package pytext

import (
	"fmt"
	"slices"
)

// UnifiedDiff is Python's difflib.unified_diff(a, b, fromfile, tofile, n=context) with empty
// file dates: the lines of a unified diff of the line lists a and b (lines keep their ends, as
// the result's do), none when they are equal. It matches lines as difflib's SequenceMatcher
// does, junk heuristic included, so that the hunks are the ones Python prints.
func UnifiedDiff(a, b []string, fromfile, tofile string, context int) []string {
	var out []string
	for i, group := range groupedOpcodes(matchingBlocks(a, b), context) {
		if i == 0 {
			out = append(out, "--- "+fromfile+"\n", "+++ "+tofile+"\n")
		}
		first, last := group[0], group[len(group)-1]
		out = append(out, fmt.Sprintf("@@ -%s +%s @@\n", unifiedRange(first.i1, last.i2), unifiedRange(first.j1, last.j2)))
		for _, op := range group {
			if op.tag == 'e' {
				for _, l := range a[op.i1:op.i2] {
					out = append(out, " "+l)
				}
				continue
			}
			for _, l := range a[op.i1:op.i2] {
				out = append(out, "-"+l)
			}
			for _, l := range b[op.j1:op.j2] {
				out = append(out, "+"+l)
			}
		}
	}
	return out
}

// unifiedRange is difflib's _format_range_unified.
func unifiedRange(start, stop int) string {
	beginning, length := start+1, stop-start
	switch length {
	case 1:
		return fmt.Sprint(beginning)
	case 0:
		beginning--
	}
	return fmt.Sprintf("%d,%d", beginning, length)
}

// match is a matching block: a[i:i+size] == b[j:j+size].
type match struct{ i, j, size int }

// opcode is one of SequenceMatcher.get_opcodes(): tag 'e'qual, 'r'eplace, 'd'elete or
// 'i'nsert, for a[i1:i2] and b[j1:j2].
type opcode struct {
	tag            byte
	i1, i2, j1, j2 int
}

// matchingBlocks is SequenceMatcher(None, a, b).get_matching_blocks(), ending with the
// sentinel (len(a), len(b), 0).
func matchingBlocks(a, b []string) []match {
	b2j := map[string][]int{}
	for j, l := range b {
		b2j[l] = append(b2j[l], j)
	}
	if n := len(b); n >= 200 { // autojunk: drop lines more frequent than 1% + 1
		for l, js := range b2j {
			if len(js) > n/100+1 {
				delete(b2j, l)
			}
		}
	}
	longest := func(alo, ahi, blo, bhi int) match {
		best := match{alo, blo, 0}
		j2len := map[int]int{}
		for i := alo; i < ahi; i++ {
			next := map[int]int{}
			for _, j := range b2j[a[i]] {
				if j < blo {
					continue
				}
				if j >= bhi {
					break
				}
				k := j2len[j-1] + 1
				next[j] = k
				if k > best.size {
					best = match{i - k + 1, j - k + 1, k}
				}
			}
			j2len = next
		}
		// Popular lines are not junk: the best match extends over them.
		for best.i > alo && best.j > blo && a[best.i-1] == b[best.j-1] {
			best = match{best.i - 1, best.j - 1, best.size + 1}
		}
		for best.i+best.size < ahi && best.j+best.size < bhi && a[best.i+best.size] == b[best.j+best.size] {
			best.size++
		}
		return best
	}
	var blocks []match
	queue := [][4]int{{0, len(a), 0, len(b)}}
	for len(queue) > 0 {
		q := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		m := longest(q[0], q[1], q[2], q[3])
		if m.size == 0 {
			continue
		}
		blocks = append(blocks, m)
		if q[0] < m.i && q[2] < m.j {
			queue = append(queue, [4]int{q[0], m.i, q[2], m.j})
		}
		if m.i+m.size < q[1] && m.j+m.size < q[3] {
			queue = append(queue, [4]int{m.i + m.size, q[1], m.j + m.size, q[3]})
		}
	}
	slices.SortFunc(blocks, func(x, y match) int {
		if x.i != y.i {
			return x.i - y.i
		}
		return x.j - y.j
	})
	var out []match
	cur := match{}
	for _, m := range blocks {
		if cur.i+cur.size == m.i && cur.j+cur.size == m.j {
			cur.size += m.size
			continue
		}
		if cur.size > 0 {
			out = append(out, cur)
		}
		cur = m
	}
	if cur.size > 0 {
		out = append(out, cur)
	}
	return append(out, match{len(a), len(b), 0})
}

// groupedOpcodes is SequenceMatcher.get_grouped_opcodes(n) over the matching blocks.
func groupedOpcodes(blocks []match, n int) [][]opcode {
	var codes []opcode
	i, j := 0, 0
	for _, m := range blocks {
		var tag byte
		switch {
		case i < m.i && j < m.j:
			tag = 'r'
		case i < m.i:
			tag = 'd'
		case j < m.j:
			tag = 'i'
		}
		if tag != 0 {
			codes = append(codes, opcode{tag, i, m.i, j, m.j})
		}
		i, j = m.i+m.size, m.j+m.size
		if m.size > 0 {
			codes = append(codes, opcode{'e', m.i, i, m.j, j})
		}
	}
	if len(codes) == 0 {
		codes = []opcode{{'e', 0, 1, 0, 1}}
	}
	if c := &codes[0]; c.tag == 'e' {
		c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
	}
	if c := &codes[len(codes)-1]; c.tag == 'e' {
		c.i2, c.j2 = min(c.i2, c.i1+n), min(c.j2, c.j1+n)
	}
	var groups [][]opcode
	var group []opcode
	for _, c := range codes {
		if c.tag == 'e' && c.i2-c.i1 > 2*n {
			group = append(group, opcode{'e', c.i1, min(c.i2, c.i1+n), c.j1, min(c.j2, c.j1+n)})
			groups = append(groups, group)
			group = nil
			c.i1, c.j1 = max(c.i1, c.i2-n), max(c.j1, c.j2-n)
		}
		group = append(group, c)
	}
	if len(group) > 0 && !(len(group) == 1 && group[0].tag == 'e') {
		groups = append(groups, group)
	}
	return groups
}
