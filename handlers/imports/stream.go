package imports

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/einsatz/einsatz/bot"
)

// Limits of one export. Imports run inside the live bot, so an export is
// read as a stream: memory grows with the messages kept, never with a
// file's size, and a zip bomb (a small zip expanding to gigabytes) is
// stopped at these limits rather than read to the end.
const (
	// maxFile bounds one file of an export (a zip entry uncompressed):
	// a DiscordChatExporter file of a busy channel reaches hundreds of MB.
	maxFile = 2 << 30
	// maxTotal bounds all files of one export together.
	maxTotal = 8 << 30
	// maxValue bounds one JSON value held in memory at once: a message,
	// a channel list, or the whitespace between two of them.
	maxValue = 8 << 20
)

// errLimit is the error of a file or export over a limit.
var errLimit = errors.New("over the import limit")

// budget counts the bytes read from one export, all its files together.
type budget struct{ read int64 }

// capReader counts what a JSON decoder reads from one file and stops it at
// the limits: the file's, the export's, and the decoder's buffer (bytes
// read but not yet consumed are the value being decoded).
type capReader struct {
	r      io.Reader
	n      int64
	budget *budget
	dec    *json.Decoder
}

func (c *capReader) Read(p []byte) (int, error) {
	switch {
	case c.dec != nil && c.n-c.dec.InputOffset() > maxValue:
		return 0, fmt.Errorf("%w: one JSON value is larger than %d MB", errLimit, maxValue>>20)
	case c.n > maxFile:
		return 0, fmt.Errorf("%w: the file is larger than %d MB", errLimit, maxFile>>20)
	case c.budget.read > maxTotal:
		return 0, fmt.Errorf("%w: the export's files are larger than %d MB together", errLimit, maxTotal>>20)
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.budget.read += int64(n)
	return n, err
}

// jsonFile streams one JSON file of an export.
type jsonFile struct {
	name string
	open func() (io.ReadCloser, error) // opens the file (again, to find the line of an error)
	rc   io.ReadCloser
	dec  *json.Decoder
}

func openJSON(name string, open func() (io.ReadCloser, error), b *budget) (*jsonFile, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cr := &capReader{r: rc, budget: b}
	dec := json.NewDecoder(cr)
	cr.dec = dec
	return &jsonFile{name: name, open: open, rc: rc, dec: dec}, nil
}

func (f *jsonFile) Close() error { return f.rc.Close() }

// object reads the object that comes next and calls fn with each key; fn
// must read the key's value (decode, array or skip).
func (f *jsonFile) object(fn func(key string) error) error {
	if err := f.delim('{', "an object"); err != nil {
		return err
	}
	for f.dec.More() {
		tok, err := f.dec.Token()
		if err != nil {
			return f.fail(err, -1)
		}
		key, _ := tok.(string)
		if err := fn(key); err != nil {
			return err
		}
	}
	return f.end('}')
}

// array reads the array that comes next and calls fn for each element;
// fn must read the element (decode).
func (f *jsonFile) array(fn func() error) error {
	if err := f.delim('[', "a list"); err != nil {
		return err
	}
	for f.dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	return f.end(']')
}

// decode reads the next value into v.
func (f *jsonFile) decode(v any) error {
	start := f.dec.InputOffset()
	if err := f.dec.Decode(v); err != nil {
		return f.fail(err, start)
	}
	return nil
}

// skip reads the next value and drops it.
func (f *jsonFile) skip() error {
	var v json.RawMessage
	return f.decode(&v)
}

// errNotJSONShape marks a file whose JSON is valid but not of the shape
// asked for (an array where an object belongs), so callers can say which
// export format they expected.
var errNotJSONShape = errors.New("not the expected JSON")

func (f *jsonFile) delim(want json.Delim, what string) error {
	tok, err := f.dec.Token()
	if err != nil {
		return f.fail(err, -1)
	}
	if tok != want {
		return fmt.Errorf("%s: %w: want %s", f.name, errNotJSONShape, what)
	}
	return nil
}

func (f *jsonFile) end(want json.Delim) error {
	tok, err := f.dec.Token()
	if err != nil {
		return f.fail(err, -1)
	}
	if tok != want {
		return fmt.Errorf("%s: %w: want the end of the %s", f.name, errNotJSONShape, map[json.Delim]string{'}': "object", ']': "list"}[want])
	}
	return nil
}

// fail names the file and, for a syntax or type error, the line and
// column (found by reading the file again: the stream keeps no lines).
// start is where the value being decoded began, or -1 for an error of
// Token, whose offsets count from the start of the file; those of Decode
// do not.
func (f *jsonFile) fail(err error, start int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errLimit):
		return fmt.Errorf("%s: %w (is it really an export?)", f.name, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%s: the file ends in the middle of the JSON (truncated?)", f.name)
	case errors.As(err, &syn):
		offset := syn.Offset
		if start >= 0 {
			offset = f.relocate(start)
		}
		line, col := f.position(offset)
		return fmt.Errorf("%s:%d:%d: not valid JSON: %v", f.name, line, col, err)
	case errors.As(err, &typ):
		line, col := f.position(f.valueStart(start) + typ.Offset)
		return fmt.Errorf("%s:%d:%d: unexpected %s for %s", f.name, line, col, typ.Value, typ.Field)
	}
	return fmt.Errorf("%s: %w", f.name, err)
}

// valueStart is the offset of the first byte of the value after start:
// past white space and the "," or ":" before it.
func (f *jsonFile) valueStart(start int64) int64 {
	rc, err := f.open()
	if err != nil {
		return start
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	if _, err := br.Discard(int(start)); err != nil {
		return start
	}
	at := start
	for {
		b, err := br.ReadByte()
		if err != nil {
			return at
		}
		switch b {
		case ' ', '\t', '\r', '\n', ',', ':':
			at++
			continue
		}
		return at
	}
}

// relocate finds the offset of a syntax error in the value that starts
// after start, by decoding it again on its own (at most maxValue bytes).
func (f *jsonFile) relocate(start int64) int64 {
	from := f.valueStart(start)
	rc, err := f.open()
	if err != nil {
		return from
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	if _, err := br.Discard(int(from)); err != nil {
		return from
	}
	var v json.RawMessage
	var syn *json.SyntaxError
	if err := json.NewDecoder(io.LimitReader(br, maxValue)).Decode(&v); errors.As(err, &syn) {
		return from + syn.Offset - 1 // Offset counts the bad byte itself
	}
	return from
}

// position finds the line and column of a byte offset; 0, 0 if the file
// cannot be read again.
func (f *jsonFile) position(offset int64) (line, col int) {
	rc, err := f.open()
	if err != nil {
		return 0, 0
	}
	defer rc.Close()
	br := bufio.NewReader(io.LimitReader(rc, offset))
	line, col = 1, 1
	for {
		b, err := br.ReadByte()
		if err != nil {
			return line, col
		}
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
}

// events collects the events of an export in fixed-size chunks and hands
// them over as one slice of exactly their number: appending to one slice
// would allocate about five times its final size on the way (a large
// slice grows by a quarter at a time), for an export of a million
// messages gigabytes.
type events struct {
	full [][]bot.Event
	cur  []bot.Event
	n    int
}

const eventChunk = 4096

func (e *events) add(ev bot.Event) {
	if len(e.cur) == cap(e.cur) {
		if e.cur != nil {
			e.full = append(e.full, e.cur)
		}
		e.cur = make([]bot.Event, 0, eventChunk)
	}
	e.cur = append(e.cur, ev)
	e.n++
}

// all returns the events in the order added, and drops its chunks.
func (e *events) all() []bot.Event {
	out := make([]bot.Event, 0, e.n)
	for _, c := range e.full {
		out = append(out, c...)
	}
	out = append(out, e.cur...)
	*e = events{}
	return out
}
