package template

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

// This file is Ansible's password_hash filter for its sha256 and sha512 types: the
// SHA-crypt scheme of glibc's crypt(3) ($5$, $6$), with passlib's default rounds, which
// Ansible writes out in the hash.

// cryptAlphabet is crypt's base-64 alphabet, for salts and hashes.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

type shaCrypt struct {
	ident  string
	new    func() hash.Hash
	rounds int // passlib's default
	order  [][3]int
}

var shaCrypts = map[string]shaCrypt{
	"sha256_crypt": {ident: "5", new: sha256.New, rounds: 535000, order: order256()},
	"sha512_crypt": {ident: "6", new: sha512.New, rounds: 656000, order: order512()},
}

// PasswordHash is the password_hash filter of password with the given hash type (sha256_crypt,
// sha512_crypt) and salt, for the password lookup's encrypt.
func PasswordHash(password, kind, salt string) (string, error) {
	h, err := passwordHash(password, []any{kind, salt, nil, nil, nil})
	if err != nil {
		return "", err
	}
	return h.(string), nil
}

// passwordHash is the password_hash filter.
func passwordHash(in any, a []any) (any, error) {
	password, err := py.Str(in)
	if err != nil {
		return nil, err
	}
	kind := pyStrLenient(a[0])
	switch kind {
	case "sha256", "sha512":
		kind += "_crypt"
	}
	c, ok := shaCrypts[kind]
	if !ok {
		return nil, fmt.Errorf("%s is not in the list of supported passlib algorithms: sha256_crypt, sha512_crypt (tally)", kind)
	}
	salt := ""
	if a[1] != nil {
		salt = pyStrLenient(a[1])
	} else {
		size := 16
		if a[2] != nil {
			if size, ok = integer(a[2]); !ok {
				return nil, errors.New("salt_size must be an integer")
			}
		}
		if salt, err = randomSalt(size); err != nil {
			return nil, err
		}
	}
	if len(salt) > 16 {
		return nil, fmt.Errorf("Could not hash the secret.. salt too large (%s requires <= 16 chars)", kind)
	}
	rounds := c.rounds
	if a[3] != nil {
		if rounds, ok = integer(a[3]); !ok {
			return nil, errors.New("rounds must be an integer")
		}
	}
	return c.hash(password, salt, rounds), nil
}

func randomSalt(n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(cryptAlphabet))))
		if err != nil {
			return "", err
		}
		b[i] = cryptAlphabet[k.Int64()]
	}
	return string(b), nil
}

// hash is crypt(3)'s SHA-crypt of password with salt (at most 16 characters) and rounds.
func (c shaCrypt) hash(password, salt string, rounds int) string {
	rounds = min(max(rounds, 1000), 999999999)
	p, s := []byte(password), []byte(salt)
	sum := func(parts ...[]byte) []byte {
		h := c.new()
		for _, x := range parts {
			h.Write(x)
		}
		return h.Sum(nil)
	}
	b := sum(p, s, p)
	h := c.new()
	h.Write(p)
	h.Write(s)
	size := len(b)
	for n := len(p); n > 0; n -= size {
		h.Write(b[:min(n, size)])
	}
	for n := len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(p)
		}
	}
	a := h.Sum(nil)
	dp := c.new()
	for range p {
		dp.Write(p)
	}
	pBytes := repeatTo(dp.Sum(nil), len(p))
	ds := c.new()
	for range 16 + int(a[0]) {
		ds.Write(s)
	}
	sBytes := repeatTo(ds.Sum(nil), len(s))
	for i := range rounds {
		h := c.new()
		if i%2 != 0 {
			h.Write(pBytes)
		} else {
			h.Write(a)
		}
		if i%3 != 0 {
			h.Write(sBytes)
		}
		if i%7 != 0 {
			h.Write(pBytes)
		}
		if i%2 != 0 {
			h.Write(a)
		} else {
			h.Write(pBytes)
		}
		a = h.Sum(nil)
	}
	var out strings.Builder
	for _, g := range c.order {
		encode24(&out, a, g)
	}
	if rounds == 5000 { // crypt's default, which the hash leaves out
		return fmt.Sprintf("$%s$%s$%s", c.ident, salt, out.String())
	}
	return fmt.Sprintf("$%s$rounds=%d$%s$%s", c.ident, rounds, salt, out.String())
}

func repeatTo(block []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, block[:min(len(block), n-len(out))]...)
	}
	return out
}

// encode24 writes the bytes at g (-1: none) as crypt's base 64, low bits first.
func encode24(out *strings.Builder, a []byte, g [3]int) {
	var v uint32
	n := 0
	for i, idx := range g {
		if idx >= 0 {
			v |= uint32(a[idx]) << (8 * (2 - i))
			n++
		}
	}
	for range n + 1 {
		out.WriteByte(cryptAlphabet[v&0x3f])
		v >>= 6
	}
}

// order256 and order512 are the byte groups in which SHA-crypt writes its final digest.
func order256() [][3]int {
	var g [][3]int
	for i := range 10 {
		g = append(g, [3]int{i * 21 % 30, (i*21 + 10) % 30, (i*21 + 20) % 30})
	}
	return append(g, [3]int{-1, 31, 30})
}

func order512() [][3]int {
	var g [][3]int
	for i := range 21 {
		g = append(g, [3]int{i * 22 % 63, (i*22 + 21) % 63, (i*22 + 42) % 63})
	}
	return append(g, [3]int{-1, -1, 63})
}
