package module

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
)

// Unix permission bits, as Python's stat module names them.
const (
	permBits  = 0o7777
	execBits  = 0o111
	modeSUID  = 0o4000
	modeSGID  = 0o2000
	modeVTX   = 0o1000
	modeRWXU  = 0o700
	modeRWXG  = 0o070
	modeRWXO  = 0o007
	typeMask  = 0o170000
	typeDir   = 0o040000
	typeReg   = 0o100000
	typeLink  = 0o120000
	typeFIFO  = 0o010000
	typeSock  = 0o140000
	typeBlock = 0o060000
	typeChar  = 0o020000
)

// modeError is a mode argument Ansible's file modules reject.
type modeError struct {
	msg     string
	details string
}

func (e *modeError) Error() string { return e.msg + ": " + e.details }

// resolveMode turns a mode argument into permission bits as AnsibleModule.set_mode_if_different
// does: an int is taken as is (YAML's 0644 arrives as 420), a string of octal digits is
// octal ("644", "0644", even "420"), anything else is symbolic ("u=rw,g=r", "a+X") applied to
// cur, the current mode bits of a file (a directory when isDir). umask is the host's, used by
// symbolic modes without a who ("+x").
func resolveMode(v any, cur uint32, isDir bool, umask uint32) (uint32, error) {
	if n, ok := asInt(v); ok {
		if n < 0 || n > permBits {
			return 0, &modeError{"Invalid mode supplied, only permission info is allowed", strconv.Itoa(n)}
		}
		return uint32(n), nil
	}
	s := pytext.Str(v)
	if n, err := parseOctal(s); err == nil {
		if n > permBits {
			return 0, &modeError{"Invalid mode supplied, only permission info is allowed", strconv.FormatUint(n, 10)}
		}
		return uint32(n), nil
	}
	m, err := symbolicMode(s, cur, isDir, umask)
	if err != nil {
		return 0, &modeError{"mode must be in octal or symbolic form", err.Error()}
	}
	return m, nil
}

// parseOctal parses s as Python's int(s, 8) does.
func parseOctal(s string) (uint64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	return strconv.ParseUint(s, 8, 32)
}

// symbolicMode applies a chmod-style symbolic mode as AnsibleModule._symbolic_mode_to_octal.
func symbolicMode(symbolic string, cur uint32, isDir bool, umask uint32) (uint32, error) {
	mode := cur & permBits
	for _, clause := range strings.Split(symbolic, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			return 0, fmt.Errorf("bad symbolic permission for mode: %s", clause)
		}
		users := clause[:i]
		useUmask := users == ""
		if users == "" || users == "a" {
			users = "ugo"
		}
		if strings.Trim(users, "ugo") != "" {
			return 0, fmt.Errorf("bad symbolic permission for mode: %s", clause)
		}
		rest := clause[i:]
		for rest != "" {
			op := rest[0]
			rest = rest[1:]
			j := strings.IndexAny(rest, "+-=")
			if j < 0 {
				j = len(rest)
			}
			perms := rest[:j]
			rest = rest[j:]
			if strings.Trim(perms, "rwxXstugo") != "" {
				return 0, fmt.Errorf("bad symbolic permission for mode: %s", clause)
			}
			for _, u := range users {
				bits := symbolicBits(u, perms, cur, isDir, useUmask, umask)
				mode = applyModeOp(u, op, bits, mode)
			}
		}
	}
	return mode, nil
}

func applyModeOp(user rune, op byte, bits, mode uint32) uint32 {
	switch op {
	case '=':
		mask := map[rune]uint32{'u': modeRWXU | modeSUID, 'g': modeRWXG | modeSGID, 'o': modeRWXO | modeVTX}[user]
		return mode&(mask^permBits) | bits
	case '+':
		return mode | bits
	default:
		return mode &^ bits
	}
}

// symbolicBits are the bits perms stands for, for one class of users.
func symbolicBits(user rune, perms string, cur uint32, isDir, useUmask bool, umask uint32) uint32 {
	prev := cur & permBits
	// shift moves rwx bits from the owner's position to user's.
	shift := map[rune]uint{'u': 0, 'g': 3, 'o': 6}[user]
	allowed := uint32(permBits)
	if useUmask {
		allowed = ^umask & permBits
	}
	var bits uint32
	for _, p := range perms {
		switch p {
		case 'r':
			bits |= 0o400 >> shift & allowed
		case 'w':
			bits |= 0o200 >> shift & allowed
		case 'x':
			bits |= 0o100 >> shift & allowed
		case 'X':
			if isDir || prev&execBits != 0 {
				bits |= 0o100 >> shift
			}
		case 's':
			bits |= map[rune]uint32{'u': modeSUID, 'g': modeSGID}[user]
		case 't':
			if user == 'o' {
				bits |= modeVTX
			}
		case 'u':
			bits |= prev & modeRWXU >> shift
		case 'g':
			bits |= (prev & modeRWXG << 3) >> shift
		case 'o':
			bits |= (prev & modeRWXO << 6) >> shift
		}
	}
	return bits
}

// octalMode formats permission bits as Ansible's results do: "0644", "04755".
func octalMode(m uint32) string { return fmt.Sprintf("0%03o", m&permBits) }
