package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	Path string // key path such as "slack.app_token" or "staff.web[0].role"; may be empty
	Line int    // 1-based line in the file; 0 when unknown
	Msg  string
}

// String formats the problem as "line 12: slack.app_token: missing ...".
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is returned by Parse and Load when the file has problems. It lists
// all of them so that one edit-and-restart cycle can fix everything.
type Error struct {
	File     string
	Problems []Problem
}

// Error lists every problem on its own line as "file:line: path: message",
// sorted by line, the format editors and terminals link to.
func (e *Error) Error() string {
	problems := sortedProblems(e.Problems)
	lines := make([]string, 0, len(problems)+1)
	if len(problems) != 1 {
		lines = append(lines, fmt.Sprintf("%s: %d problems:", e.fileName(), len(problems)))
	}
	for _, p := range problems {
		if e.File == "" {
			lines = append(lines, p.String())
			continue
		}
		loc := e.File
		if p.Line > 0 {
			loc += ":" + strconv.Itoa(p.Line)
		}
		lines = append(lines, loc+": "+Problem{Path: p.Path, Msg: p.Msg}.String())
	}
	return strings.Join(lines, "\n")
}

func (e *Error) fileName() string {
	if e.File == "" {
		return "configuration"
	}
	return e.File
}

// sortedProblems returns problems ordered by line, those without a line
// last, keeping the order they were found in otherwise.
func sortedProblems(problems []Problem) []Problem {
	sorted := append([]Problem(nil), problems...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Line, sorted[j].Line
		if a == 0 || b == 0 {
			return b == 0 && a != 0
		}
		return a < b
	})
	return sorted
}

// Load reads and parses the configuration file at path, taking ${VAR}
// values from the process environment.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, os.LookupEnv)
}

// Parse decodes a configuration file's contents. name is used in error
// messages; lookup resolves ${VAR} references (os.LookupEnv in production).
// Keys absent from the file keep their defaults. Any problem, including
// validation failures, makes Parse return nil and an *Error listing all of
// them.
func Parse(data []byte, name string, lookup func(string) (string, bool)) (*Config, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false } // no environment
	}
	cfg := Default()
	d := &decoder{lookup: lookup, lines: map[string]int{}}

	root, err := parseYAML(data)
	if err != nil {
		return nil, &Error{File: name, Problems: []Problem{syntaxProblem(err, data)}}
	}
	if root != nil {
		d.value(root, reflect.ValueOf(cfg).Elem(), "", "")
	}
	cfg.fillDefaults()
	cfg.lines = d.lines

	problems := d.problems
	// A key that already failed to decode would only produce a second,
	// confusing message about its (default) value.
	failed := map[string]bool{}
	for _, p := range problems {
		failed[p.Path] = true
	}
	for _, p := range cfg.Validate() {
		if !failed[p.Path] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, &Error{File: name, Problems: sortedProblems(problems)}
	}
	return cfg, nil
}

// parseYAML returns the root node of the single document in data, or nil for
// an empty file.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	// A second document would be silently ignored otherwise.
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: only one YAML document is allowed; remove the second \"---\"", extra.Line)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return nil, nil
}

// syntaxProblem turns a YAML syntax error, which carries its line only
// inside the message ("yaml: line 3: did not find expected key"), into a
// Problem. yaml leaves the line out when it is the first, and has none for
// bytes it cannot read (invalid UTF-8, control characters) or an unknown
// alias: those lines are found in data.
func syntaxProblem(err error, data []byte) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, found := strings.Cut(rest, ": ")
		if line, err := strconv.Atoi(num); found && err == nil {
			return Problem{Line: line, Msg: "invalid YAML: " + text}
		}
	}
	line := 1
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		if i := bytes.Index(data, []byte("*"+strings.TrimSuffix(name, "' referenced"))); i >= 0 {
			line += bytes.Count(data[:i], []byte("\n"))
		}
	} else if i := unreadable(data); i >= 0 &&
		(strings.Contains(msg, "UTF-8") || strings.Contains(msg, "control characters") || strings.Contains(msg, "Unicode")) {
		line += bytes.Count(data[:i], []byte("\n"))
	}
	return Problem{Line: line, Msg: "invalid YAML: " + msg}
}

// unreadable is the offset of the first byte YAML refuses to read: invalid
// UTF-8 or a control character other than tab and line breaks; -1 if none.
func unreadable(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		ok := r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
			r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
		if !ok || r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// decoder fills a Config from a yaml.Node tree. It walks the tree against
// the struct's yaml tags itself, instead of using node.Decode on the whole
// tree, because that way it can expand ${VAR} per value, know which values
// came from the environment, report unknown keys with their full path, and
// keep going after the first problem.
type decoder struct {
	lookup   func(string) (string, bool)
	problems []Problem
	lines    map[string]int // key path → line, for Validate
	// written maps a value expanded from the environment to the text in
	// the file: problems quote that, never what the environment held (it
	// may be a token).
	written map[*yaml.Node]string
}

func (d *decoder) problem(path string, line int, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// value decodes n into v. secretEnv is the variable a secret field should be
// read from; it is empty for ordinary fields.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path, secretEnv string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		var ok bool
		if n, ok = d.expand(n, path, secretEnv); !ok {
			return
		}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "key:" with no value (or an empty ${VAR}) keeps the default
	}

	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.value(n, elem.Elem(), path, secretEnv)
		v.Set(elem)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Map:
		d.dict(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// mapping decodes a YAML mapping into a struct, reporting unknown and
// duplicate keys.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(path, n.Line, "expected a section with keys, got %s", d.describe(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !d.checkKey(key, path, seen) {
			continue
		}
		p := joinPath(path, key.Value)
		idx, ok := fields[key.Value]
		if !ok {
			d.problem(p, key.Line, "unknown key%s", suggest(key.Value, fieldNames(fields)))
			continue
		}
		d.lines[p] = key.Line
		f := v.Type().Field(idx)
		d.value(val, v.Field(idx), p, f.Tag.Get("secret"))
	}
}

// dict decodes a YAML mapping into a map with string keys.
func (d *decoder) dict(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(path, n.Line, "expected a section with keys, got %s", d.describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !d.checkKey(key, path, seen) {
			continue
		}
		p := joinPath(path, key.Value)
		d.lines[p] = key.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(val, elem, p, "")
		m.SetMapIndex(reflect.ValueOf(key.Value).Convert(v.Type().Key()), elem)
	}
	v.Set(m)
}

// checkKey reports keys that are not plain names, the unsupported merge key
// and duplicates; it returns whether the key can be used.
func (d *decoder) checkKey(key *yaml.Node, path string, seen map[string]int) bool {
	if key.Kind != yaml.ScalarNode {
		d.problem(path, key.Line, "keys must be plain names, got %s", d.describe(key))
		return false
	}
	if key.Tag == "!!merge" {
		d.problem(path, key.Line, "YAML merge keys (<<) are not supported; write the keys out")
		return false
	}
	if first, dup := seen[key.Value]; dup {
		d.problem(joinPath(path, key.Value), key.Line, "duplicate key (first set on line %d)", first)
		return false
	}
	seen[key.Value] = key.Line
	return true
}

// sequence decodes a YAML list into a slice.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(path, n.Line, "expected a list (e.g. [a, b] or lines starting with \"- \"), got %s", d.describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.Line
		d.value(item, s.Index(i), p, "")
	}
	v.Set(s)
}

// scalar decodes a single value into a string, number, bool or duration.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.problem(path, n.Line, "expected a single value, got %s", d.describe(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		// yaml's message names Go types; say what the user should write.
		d.problem(path, n.Line, "cannot use %q: want %s", d.text(n), typeName(v.Type()))
	}
}

// expand returns a copy of the scalar n with ${VAR} references replaced, and
// false if the value is malformed. For secret fields it also insists that
// the value comes from the environment.
func (d *decoder) expand(n *yaml.Node, path, secretEnv string) (*yaml.Node, bool) {
	val, literal, err := expandEnv(n.Value, d.lookup)
	if err != nil {
		d.problem(path, n.Line, "%v", err)
		return nil, false
	}
	if secretEnv != "" && val != "" && literal {
		// The value is deliberately not echoed: it is a secret. Decoding
		// goes on so that validation does not also call the key missing.
		d.problem(path, n.Line, "put secrets in the environment, not in the file: use ${%s}", secretEnv)
	}
	if val == n.Value {
		return n, true
	}
	// Copy rather than modify: an aliased node is shared between keys.
	c := *n
	c.Value = val
	if d.written == nil {
		d.written = map[*yaml.Node]string{}
	}
	d.written[&c] = n.Value
	// The parser typed a plain ${VAR} as a string; drop that guess so the
	// expanded text is resolved afresh ("32" as a number, "" as null).
	// Quoted values stay strings, as the user asked.
	if c.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		c.Tag = ""
	}
	return &c, true
}

// expandEnv replaces ${VAR} and ${VAR:-default} in s. ${VAR:-default} uses
// default when VAR is unset or empty; defaults may contain references
// themselves. A "$" not followed by "{" is kept as it is. literal reports
// whether any non-empty part of the result was written in the file rather
// than taken from the environment.
func expandEnv(s string, lookup func(string) (string, bool)) (result string, literal bool, err error) {
	var b strings.Builder
	for {
		start := strings.Index(s, "${")
		if start < 0 {
			b.WriteString(s)
			return b.String(), literal || s != "", nil
		}
		b.WriteString(s[:start])
		literal = literal || start > 0
		rest := s[start+2:]
		end := closingBrace(rest)
		if end < 0 {
			return "", false, errors.New(`unterminated "${": add the closing "}"`)
		}
		name, def, hasDef := strings.Cut(rest[:end], ":-")
		if !validEnvName(name) {
			return "", false, fmt.Errorf("invalid environment variable name %q in \"${...}\"", name)
		}
		s = rest[end+1:]
		if v, ok := lookup(name); ok && v != "" {
			b.WriteString(v) // inserted as is: values are never expanded again
			continue
		}
		if hasDef {
			v, lit, err := expandEnv(def, lookup)
			if err != nil {
				return "", false, err
			}
			b.WriteString(v)
			literal = literal || (lit && v != "")
		}
	}
}

// closingBrace returns the index of the "}" that closes a "${" whose body
// starts s, skipping nested references, or -1.
func closingBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			depth++
			i++
		case s[i] == '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// yamlFields maps the yaml key of each exported field of struct type t to
// its index.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			fields[name] = i
		}
	}
	return fields
}

func fieldNames(fields map[string]int) []string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// describe names the kind of a node for messages.
func (d *decoder) describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section with keys"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("the value %q", d.text(n))
	}
}

// text is a scalar's value as written in the file (${VAR} unexpanded).
func (d *decoder) text(n *yaml.Node) string {
	if w, ok := d.written[n]; ok {
		return w
	}
	return n.Value
}

// typeName describes what a Go type expects, in the user's terms.
func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 30s, 10m or 720h"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	default:
		return "text"
	}
}

// suggest returns ` (did you mean "x"?)` for the candidate closest to key,
// or "" when none is close enough to be a plausible typo.
func suggest(key string, candidates []string) string {
	norm := normalizeKey(key)
	best, bestDist := "", -1
	for _, c := range candidates {
		dist := editDistance(norm, normalizeKey(c))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	// Allow about one typo per three letters, so short keys need a close match.
	if best == "" || bestDist > max(1, len(norm)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// normalizeKey makes botToken, bot-token and BOT_TOKEN compare equal to
// bot_token.
func normalizeKey(s string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
}

// editDistance is the optimal string alignment distance between a and b:
// the Levenshtein distance, plus swapping two neighbouring letters counts as
// one edit, the most common typo ("levle").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
