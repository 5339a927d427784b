package analyze

import (
	"bytes"
	"encoding/json"
	"io"
)

// writeJSONStream writes r exactly as an encoding/json Encoder with
// SetIndent("", "  ") and SetEscapeHTML(false) would, without holding the
// whole document in memory: the report without its attempts is encoded as
// usual, and the attempts, which are most of a large report (10000 make
// about 6.5 MB), are encoded one at a time and indented by a byte loop
// that is an order of magnitude faster than json.Indent.
func writeJSONStream(w io.Writer, r *Report) error {
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if len(r.Attempts) == 0 {
		if err := enc.Encode(r); err != nil {
			return err
		}
		_, err := w.Write(head.Bytes())
		return err
	}
	rest := *r
	rest.Attempts = []AttemptReport{}
	if err := enc.Encode(&rest); err != nil {
		return err
	}
	// A top-level key sits on a line of its own after two spaces; no other
	// line starts that way (deeper keys are indented more, and strings
	// cannot hold a newline), so this finds the attempts and nothing else.
	marker := []byte("\n  \"attempts\": []")
	b := head.Bytes()
	i := bytes.Index(b, marker)
	if i < 0 {
		// Not where it should be: fall back to the plain encoder.
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	}
	open := i + len(marker) - 1 // just past '['
	if _, err := w.Write(b[:open]); err != nil {
		return err
	}
	var elem bytes.Buffer
	compact := json.NewEncoder(&elem)
	compact.SetEscapeHTML(false)
	out := make([]byte, 0, 4096)
	for k := range r.Attempts {
		elem.Reset()
		if err := compact.Encode(&r.Attempts[k]); err != nil {
			return err
		}
		out = out[:0]
		if k > 0 {
			out = append(out, ',')
		}
		out = appendNewline(out, 2)
		out = appendIndented(out, bytes.TrimSuffix(elem.Bytes(), []byte("\n")), 2)
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	out = appendNewline(out[:0], 1)
	out = append(out, ']')
	if _, err := w.Write(out); err != nil {
		return err
	}
	_, err := w.Write(b[open+1:])
	return err
}

// appendIndented appends the compact JSON value src (as encoding/json
// writes it: no insignificant white space) to dst, indented as json.Indent
// with prefix "" and indent "  " would indent it at depth levels of nesting.
// Strings and other tokens are copied whole.
func appendIndented(dst, src []byte, depth int) []byte {
	needIndent := false // just after '{' or '['
	for i := 0; i < len(src); {
		c := src[i]
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			dst = appendNewline(dst, depth)
		}
		switch c {
		case '"':
			j := stringEnd(src, i)
			dst = append(dst, src[i:j]...)
			i = j
			continue
		case '{', '[':
			dst = append(dst, c)
			needIndent = true
			depth++
		case ',':
			dst = append(dst, c)
			dst = appendNewline(dst, depth)
		case ':':
			dst = append(dst, ':', ' ')
		case '}', ']':
			depth--
			if needIndent {
				needIndent = false // empty: "{}" or "[]"
			} else {
				dst = appendNewline(dst, depth)
			}
			dst = append(dst, c)
		default:
			// A number, true, false or null: up to the next delimiter.
			j := i + 1
			for j < len(src) && !isDelim(src[j]) {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j
			continue
		}
		i++
	}
	return dst
}

func isDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ':' || c == '"' || c == '{' || c == '['
}

// stringEnd returns the index just past the string that starts with the
// quote at src[i], or len(src) if it is not closed.
func stringEnd(src []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(src[j:], '"')
		if k < 0 {
			return len(src)
		}
		j += k
		backslashes := 0
		for p := j - 1; p > i && src[p] == '\\'; p-- {
			backslashes++
		}
		j++
		if backslashes%2 == 0 {
			return j
		}
	}
}

// newlines holds a newline and enough indentation for any depth the
// report reaches; deeper levels are appended in a loop.
const newlines = "\n                                "

func appendNewline(dst []byte, depth int) []byte {
	if n := 1 + 2*depth; n <= len(newlines) {
		return append(dst, newlines[:n]...)
	}
	dst = append(dst, newlines...)
	for range depth - (len(newlines)-1)/2 {
		dst = append(dst, ' ', ' ')
	}
	return dst
}
