package module

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
)

// encodeText encodes text (UTF-8) in the Python codec named codec, as str.encode does for
// the template module's output_encoding. Python's spellings of the common codecs (utf8,
// latin-1, cp1252, ascii, utf-16 with its byte order mark, little-endian) are understood,
// and so is every IANA name.
func encodeText(text, codec string) ([]byte, error) {
	name := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(codec)), "_", "-")
	var enc encoding.Encoding
	switch name {
	case "utf-8", "utf8", "u8", "":
		return []byte(text), nil
	case "utf-16", "utf16":
		enc = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	case "utf-16-le", "utf-16le":
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case "utf-16-be", "utf-16be":
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	default:
		aliases := []string{name}
		switch {
		case name == "latin-1" || name == "latin" || name == "l1":
			aliases = append(aliases, "iso-8859-1")
		case name == "ascii" || name == "us-ascii":
			aliases = append(aliases, "us-ascii")
		case strings.HasPrefix(name, "cp"):
			aliases = append(aliases, "windows-"+name[2:], "ibm"+name[2:])
		}
		for _, a := range aliases {
			if e, err := ianaindex.IANA.Encoding(a); err == nil && e != nil {
				enc = e
				break
			}
		}
	}
	if enc == nil {
		return nil, fmt.Errorf("unknown encoding: %s", codec)
	}
	out, err := enc.NewEncoder().Bytes([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("'%s' codec can't encode %s", codec, firstUnencodable(text, enc))
	}
	return out, nil
}

// firstUnencodable describes the first character of text that enc cannot encode, as
// Python's UnicodeEncodeError does.
func firstUnencodable(text string, enc encoding.Encoding) string {
	pos := 0
	for _, r := range text {
		if _, err := enc.NewEncoder().String(string(r)); err != nil {
			return fmt.Sprintf("character %+q in position %d", r, pos)
		}
		pos++
	}
	return "the text"
}
