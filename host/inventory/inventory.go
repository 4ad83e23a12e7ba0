// Package inventory reads Ansible inventories as ansible-core 2.14 does: INI and YAML
// files, directories of them, "h1,h2," host lists, their group_vars/ and host_vars/, host
// patterns and --limit, with Ansible's variable precedence.
//
// An Inventory is built by Load (or LoadWith), then completed by AddVarsDir and Limit. Once
// that is done it is read-only and safe for concurrent use: Select, Host, HostVars and the
// other accessors may be called from many goroutines (the one state they change, the
// implicit localhost and a cache of pattern results, is guarded).
package inventory

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/internal/pytext"
)

// ParseError is an inventory or vars file that could not be read or parsed, with the line
// at fault when known.
type ParseError struct {
	File string
	Line int // 0 when unknown
	Err  error
}

// Error gives "file:line: message", or "file: message" when the line is not known.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Host is an inventory host.
type Host struct {
	Name string
	// Vars are the host's own variables: those the inventory sets on it (including
	// ansible_port from "host:port", inventory_file and inventory_dir), overridden by its
	// host_vars/ files. Group variables are not included: see Inventory.HostVars.
	Vars map[string]any
	// Implicit marks the implicit localhost, which Ansible creates when a pattern names
	// localhost, 127.0.0.1 or ::1 that the inventory lacks. It is in no group, not even all.
	Implicit bool

	inline map[string]any // Ansible's host.vars
	direct []*Group       // the groups listing the host
	groups []*Group       // direct groups and their ancestors, sorted by name
}

// Groups returns every group the host belongs to, ancestors included, sorted by name.
func (h *Host) Groups() []*Group { return append([]*Group(nil), h.groups...) }

// GroupNames returns Ansible's group_names for the host: the names of its groups without
// "all", sorted. As in Ansible, a host in no other group has ["ungrouped"].
func (h *Host) GroupNames() []string {
	names := make([]string, 0, len(h.groups))
	for _, g := range h.groups {
		if g.Name != "all" {
			names = append(names, g.Name)
		}
	}
	return names
}

// Group is an inventory group.
type Group struct {
	Name string
	// Vars are the group's variables: those the inventory sets on it, overridden by its
	// group_vars/ files. ansible_group_priority is not among them: see Priority.
	Vars map[string]any
	// Depth is the length of the longest chain of parents up to "all" (depth 0): a child
	// group's variables override its parents'.
	Depth int
	// Priority is ansible_group_priority (default 1): among groups of one depth, a higher
	// priority wins.
	Priority int

	inline   map[string]any
	children []*Group
	parents  []*Group
	hosts    []*Host
	allHosts []*Host // Ansible's get_hosts(), computed once the inventory is complete
}

// Children returns the group's child groups, in the order they were added.
func (g *Group) Children() []*Group { return append([]*Group(nil), g.children...) }

// Parents returns the group's parent groups, in the order they were added.
func (g *Group) Parents() []*Group { return append([]*Group(nil), g.parents...) }

// Hosts returns the hosts listed in the group itself, in inventory order.
func (g *Group) Hosts() []*Host { return append([]*Host(nil), g.hosts...) }

// AllHosts returns the hosts of the group and of its descendants, in the order Ansible
// gives them for the group's name as a pattern.
func (g *Group) AllHosts() []*Host { return append([]*Host(nil), g.allHosts...) }

// Options tune LoadWith.
type Options struct {
	// Warn receives the warnings Ansible prints: a host pattern matching nothing, a key
	// skipped in a YAML inventory, a duplicate YAML key... Each distinct message is given
	// once. nil discards them. It may be called from Select while the Inventory is locked,
	// so it must not call back into the Inventory.
	Warn func(msg string)
	// Vault opens vault-encrypted inventory and vars files and !vault values; nil has no
	// secrets.
	Vault *vault.Keyring
}

// Inventory holds hosts and groups. Build it with Load or LoadWith, then call AddVarsDir
// and Limit as needed; after that it is read-only and safe for concurrent use by many
// goroutines.
type Inventory struct {
	hosts      []*Host
	hostIndex  map[string]*Host
	groups     []*Group
	groupIndex map[string]*Group

	// The source being parsed: inventory_file and inventory_dir of hosts it creates.
	curFile, curDir any

	groupsVar map[string][]string // GroupsVar, computed once the inventory is complete

	invDirs  []*varsDir // group_vars/ and host_vars/ next to each source, in source order
	playDirs []*varsDir // those added by AddVarsDir
	dirs     map[string]*varsDir
	files    map[string]any // vars files loaded, by path

	warnFunc func(string)
	vault    *vault.Keyring

	mu        sync.Mutex // guards the fields below
	localhost *Host      // the first localhost-like host, or the implicit localhost
	subset    []string
	patterns  map[string][]*Host
	warned    map[string]bool
}

func newInventory(warn func(string)) *Inventory {
	inv := &Inventory{
		hostIndex:  map[string]*Host{},
		groupIndex: map[string]*Group{},
		dirs:       map[string]*varsDir{},
		files:      map[string]any{},
		warnFunc:   warn,
		patterns:   map[string][]*Host{},
		warned:     map[string]bool{},
	}
	all, _ := inv.addGroup("all")
	ungrouped, _ := inv.addGroup("ungrouped")
	_ = all.addChildGroup(ungrouped)
	return inv
}

// warnf reports a warning once. It runs while loading or with mu held.
func (inv *Inventory) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if inv.warned[msg] {
		return
	}
	inv.warned[msg] = true
	if inv.warnFunc != nil {
		inv.warnFunc(msg)
	}
}

// localhostNames are the names Ansible treats as the controller (C.LOCALHOST).
var localhostNames = []string{"127.0.0.1", "localhost", "::1"}

func isLocalhostName(name string) bool { return slices.Contains(localhostNames, name) }

// invalidGroupChars is Ansible's INVALID_VARIABLE_NAMES, with Python's Unicode \w.
var invalidGroupChars = regexp.MustCompile(`^\p{Nd}|[^\p{L}\p{N}_]`)

// addGroup returns the group called name, creating it if needed.
func (inv *Inventory) addGroup(name string) (*Group, error) {
	if name == "" {
		return nil, errors.New("invalid empty/false group name provided")
	}
	if g := inv.groupIndex[name]; g != nil {
		return g, nil
	}
	if invalidGroupChars.MatchString(name) {
		// Ansible's default (TRANSFORM_INVALID_GROUP_CHARS=never) keeps the name.
		inv.warnf("Invalid characters were found in group names but not replaced, use -vvvv to see details")
	}
	g := &Group{Name: name, Priority: 1, inline: map[string]any{}}
	inv.groups = append(inv.groups, g)
	inv.groupIndex[name] = g
	return g, nil
}

// addHost returns the host called name, creating it if needed, and adds it to g (if not
// nil). port (if positive) is set only when the host is created, as in Ansible.
func (inv *Inventory) addHost(name string, g *Group, port int) (*Host, error) {
	if name == "" {
		return nil, errors.New("invalid empty host name provided")
	}
	h := inv.hostIndex[name]
	if h == nil {
		h = &Host{Name: name, inline: map[string]any{}}
		if port > 0 {
			h.inline["ansible_port"] = port
		}
		inv.hosts = append(inv.hosts, h)
		inv.hostIndex[name] = h
		// Cannot fail: only ansible_group_priority can.
		_ = inv.setHostVar(h, "inventory_file", inv.curFile)
		_ = inv.setHostVar(h, "inventory_dir", inv.curDir)
		if isLocalhostName(name) {
			if inv.localhost == nil {
				inv.localhost = h
			} else {
				inv.warnf("A duplicate localhost-like entry was found (%s). First found localhost was %s", name, inv.localhost.Name)
			}
		}
	}
	if g != nil {
		g.addHost(h)
	}
	return h, nil
}

func (g *Group) addHost(h *Host) {
	for _, x := range g.hosts {
		if x == h {
			return
		}
	}
	g.hosts = append(g.hosts, h)
	h.direct = append(h.direct, g)
}

func (g *Group) removeHost(h *Host) {
	g.hosts = without(g.hosts, h)
	h.direct = without(h.direct, g)
}

func without[T comparable](list []T, x T) []T {
	out := list[:0]
	for _, e := range list {
		if e != x {
			out = append(out, e)
		}
	}
	return out
}

// addChild makes child (a group, or else a host) a member of parent.
func (inv *Inventory) addChild(parent *Group, child string) error {
	if c := inv.groupIndex[child]; c != nil {
		return parent.addChildGroup(c)
	}
	if h := inv.hostIndex[child]; h != nil {
		parent.addHost(h)
		return nil
	}
	return fmt.Errorf("%s is not a known host nor group", child)
}

func (g *Group) addChildGroup(c *Group) error {
	if g == c {
		return fmt.Errorf("can't add group %s to itself", g.Name)
	}
	for _, x := range g.children {
		if x == c {
			return nil
		}
	}
	if g.hasAncestor(c) {
		return fmt.Errorf("adding group '%s' as child to '%s' creates a recursive dependency loop", c.Name, g.Name)
	}
	g.children = append(g.children, c)
	c.parents = append(c.parents, g)
	c.raiseDepth(g.Depth + 1)
	return nil
}

func (g *Group) hasAncestor(a *Group) bool {
	return slices.Contains(g.ancestors(), a)
}

// ancestors returns the group's parents, their parents and so on.
func (g *Group) ancestors() []*Group {
	var out []*Group
	seen := map[*Group]bool{}
	stack := append([]*Group(nil), g.parents...)
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
			stack = append(stack, p.parents...)
		}
	}
	return out
}

// raiseDepth keeps every group deeper than its parents, as Ansible's depth bookkeeping does.
func (g *Group) raiseDepth(d int) {
	if g.Depth >= d {
		return
	}
	g.Depth = d
	for _, c := range g.children {
		c.raiseDepth(d + 1)
	}
}

// setHostVar sets a variable of h as Ansible's InventoryData.set_variable does: by name, so
// when a group has the same name the variable goes to the group.
func (inv *Inventory) setHostVar(h *Host, k string, v any) error {
	if g := inv.groupIndex[h.Name]; g != nil {
		return g.setVar(k, v)
	}
	h.inline[k] = v
	return nil
}

// setVar sets a group variable; ansible_group_priority sets the priority instead, and
// must convert to an integer as Python's int() would.
func (g *Group) setVar(k string, v any) error {
	if k != "ansible_group_priority" {
		g.inline[k] = v
		return nil
	}
	p, err := pyIntOf(v)
	if err != nil {
		return fmt.Errorf("ansible_group_priority of group %s: %w", g.Name, err)
	}
	g.Priority = p
	return nil
}

// pyIntOf is Python's int(v) for an inventory value.
func pyIntOf(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("cannot convert float %s to integer", pytext.FormatFloat(v))
		}
		return int(math.Max(math.MinInt, math.Min(math.MaxInt, math.Trunc(v)))), nil
	case string:
		n, err := pyInt(v)
		if err != nil {
			return 0, fmt.Errorf("invalid literal for int() with base 10: %q", v)
		}
		return smallInt(n), nil
	}
	return 0, fmt.Errorf("int() argument must be a string or a number, not '%s'", pytext.TypeName(v))
}

// reconcile is Ansible's reconcile_inventory, run once all sources are parsed: groups
// without a parent become children of all, hosts in no group go to ungrouped (and hosts
// in another group leave it).
func (inv *Inventory) reconcile() error {
	all, ungrouped := inv.groupIndex["all"], inv.groupIndex["ungrouped"]
	for _, g := range inv.groups {
		if g != all && len(g.parents) == 0 {
			if err := all.addChildGroup(g); err != nil {
				return err
			}
		}
	}
	// Each host's groups, kept up to date as Ansible keeps Host.groups.
	sets := map[*Host]map[*Group]bool{}
	for _, h := range inv.hosts {
		sets[h] = h.closure()
	}
	underUngrouped := append(ungrouped.ancestors(), ungrouped)
	for _, h := range inv.hosts {
		groups := sets[h]
		switch {
		case groups[ungrouped]:
			if (len(groups) > 2 || (len(groups) == 2 && !groups[all])) && slices.Contains(ungrouped.hosts, h) {
				ungrouped.removeHost(h)
				removeGroup(groups, ungrouped)
			}
		case len(groups) == 0 || (len(groups) == 1 && groups[all]):
			// Ansible adds the host by name, so a group of that name goes in its place.
			g := inv.groupIndex[h.Name]
			var before []*Group
			if g != nil {
				before = g.ancestors()
			}
			if err := inv.addChild(ungrouped, h.Name); err != nil {
				return fmt.Errorf("adding %s to ungrouped: %w", h.Name, err)
			}
			members := []*Host{h}
			if g != nil {
				members = g.walkHosts()
			}
			for _, m := range members {
				for _, a := range underUngrouped {
					if !slices.Contains(before, a) {
						sets[m][a] = true
					}
				}
			}
		}
		if inv.groupIndex[h.Name] != nil {
			inv.warnf("Found both group and host with same name: %s", h.Name)
		}
	}
	if lh := inv.localhost; lh != nil && lh.Implicit {
		// group_by may put the implicit localhost in groups, never in ungrouped
		sets[lh] = lh.closure()
	}
	for h, set := range sets {
		h.groups = nil
		for g := range set {
			h.groups = append(h.groups, g)
		}
		sortByName(h.groups)
	}
	inv.groupsVar = make(map[string][]string, len(inv.groups))
	for _, g := range inv.groups {
		g.allHosts = g.walkHosts()
		names := make([]string, len(g.allHosts))
		for i, h := range g.allHosts {
			names[i] = h.Name
		}
		inv.groupsVar[g.Name] = names
	}
	return nil
}

// removeGroup is Ansible's Host.remove_group on the set of a host's groups: g goes, and so
// do its ancestors (but all) that are no longer the ancestor of a remaining group, even
// when the host is listed in them. This only matters when ungrouped has parents.
func removeGroup(groups map[*Group]bool, g *Group) {
	if !groups[g] {
		return
	}
	delete(groups, g)
	ancestors := g.ancestors()
	sortByName(ancestors)
	for _, old := range ancestors {
		if old.Name == "all" {
			continue
		}
		exclusive := true
		for c := range groups {
			if c.hasAncestor(old) {
				exclusive = false
				break
			}
		}
		if exclusive {
			removeGroup(groups, old)
		}
	}
}

func sortByName(groups []*Group) {
	slices.SortFunc(groups, func(a, b *Group) int { return strings.Compare(a.Name, b.Name) })
}

// closure returns the host's groups and all their ancestors.
func (h *Host) closure() map[*Group]bool {
	set := map[*Group]bool{}
	var add func(g *Group)
	add = func(g *Group) {
		if set[g] {
			return
		}
		set[g] = true
		for _, p := range g.parents {
			add(p)
		}
	}
	for _, g := range h.direct {
		add(g)
	}
	return set
}

// walkHosts is Ansible's Group.get_hosts: the hosts of the group, then of its descendants
// level by level, without duplicates. Within a level Ansible goes through a Python set, in
// an order that changes from run to run; tally takes the groups in the order they were
// found.
func (g *Group) walkHosts() []*Host {
	ordered := append([]*Group{g}, g.children...)
	seen := map[*Group]bool{}
	for _, x := range ordered {
		seen[x] = true
	}
	for level := ordered; len(level) > 0; {
		var next []*Group
		for _, x := range level {
			for _, c := range x.children {
				if !seen[c] {
					seen[c] = true
					next = append(next, c)
				}
			}
		}
		ordered = append(ordered, next...)
		level = next
	}
	var hosts []*Host
	seenHost := map[*Host]bool{}
	for _, x := range ordered {
		for _, h := range x.hosts {
			if !seenHost[h] {
				seenHost[h] = true
				if g.Name == "all" && h.Implicit { // as Ansible: all never holds it
					continue
				}
				hosts = append(hosts, h)
			}
		}
	}
	return hosts
}

// Hosts returns every host of the inventory in the order they were defined (the implicit
// localhost is not one of them).
func (inv *Inventory) Hosts() []*Host { return append([]*Host(nil), inv.hosts...) }

// Host returns the host called name, or nil. As Ansible's get_host, a localhost name
// (localhost, 127.0.0.1, ::1) missing from the inventory gives the implicit localhost.
func (inv *Inventory) Host(name string) *Host {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.getHost(name)
}

// getHost is Host with mu held.
func (inv *Inventory) getHost(name string) *Host {
	if h := inv.hostIndex[name]; h != nil {
		return h
	}
	if !isLocalhostName(name) {
		return nil
	}
	if inv.localhost == nil {
		h := &Host{Name: name, Implicit: true, inline: map[string]any{"ansible_connection": "local"}}
		inv.refreshHostVars(h)
		inv.localhost = h
	}
	return inv.localhost
}

// Groups returns every group in the order they were defined, starting with all and
// ungrouped.
func (inv *Inventory) Groups() []*Group { return append([]*Group(nil), inv.groups...) }

// Group returns the group called name, or nil.
func (inv *Inventory) Group(name string) *Group { return inv.groupIndex[name] }

// GroupsVar returns Ansible's "groups" magic variable: every group name (all and
// ungrouped included) with the names of its hosts. The map is new; the lists are shared,
// do not modify them.
func (inv *Inventory) GroupsVar() map[string][]string { return maps.Clone(inv.groupsVar) }
