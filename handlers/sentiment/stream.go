package sentiment

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// Intent tells whether a message is a feature request and whether it is a question. The
// `einsatz analyze` command passes the best detectors the project has; nil means both false.
type Intent func(text, lang string) (featureRequest, question bool)

// MaxLineBytes bounds one input line of AnalyzeStream; a longer line yields an error line.
const MaxLineBytes = 1 << 20

type streamInput struct {
	Text *string `json:"text"`
	Lang string  `json:"lang"`
}

// AnalyzeStream is the body of `einsatz analyze`: it reads JSON lines {"text": ..., "lang"?: ...}
// from r and writes exactly one JSON line per input line to w, in order:
//
//	{"sentiment":{"label":"positive","score":0.42},"lang":"en","intent":{"feature_request":false,"question":true}}
//
// A blank or malformed line (bad JSON, missing or non-string text, invalid UTF-8, longer than
// MaxLineBytes) yields {"error":"..."} in its place. A final line without a newline counts. It
// returns the number of lines written and the first read or write error.
func AnalyzeStream(r io.Reader, w io.Writer, a *Analyzer, intent Intent) (lines int, err error) {
	if a == nil {
		a = New()
	}
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	out := make([]byte, 0, 256)
	var line []byte
	for {
		line = line[:0]
		tooLong := false
		var rerr error
		for {
			frag, e := br.ReadSlice('\n')
			if len(line)+len(frag) <= MaxLineBytes {
				line = append(line, frag...)
			} else {
				tooLong = true
			}
			if e == bufio.ErrBufferFull {
				continue
			}
			rerr = e
			break
		}
		if len(line) == 0 && !tooLong {
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return lines, errors.Join(rerr, bw.Flush())
			}
		}
		out = processLine(out[:0], line, tooLong, a, intent)
		if _, err := bw.Write(out); err != nil {
			return lines, err
		}
		lines++
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return lines, errors.Join(rerr, bw.Flush())
		}
	}
	return lines, bw.Flush()
}

func processLine(out, line []byte, tooLong bool, a *Analyzer, intent Intent) []byte {
	line = bytes.TrimRight(line, "\r\n")
	if tooLong {
		return errorLine(out, "line longer than "+strconv.Itoa(MaxLineBytes)+" bytes")
	}
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 {
		return errorLine(out, "blank line")
	}
	if !utf8.Valid(trimmed) {
		return errorLine(out, "invalid UTF-8")
	}
	var in streamInput
	if err := json.Unmarshal(trimmed, &in); err != nil {
		return errorLine(out, "bad JSON: "+err.Error())
	}
	if in.Text == nil {
		return errorLine(out, `missing "text"`)
	}
	res := a.AnalyzeLang(*in.Text, in.Lang)
	var fr, q bool
	if intent != nil {
		fr, q = intent(*in.Text, res.Lang)
	}
	out = append(out, `{"sentiment":{"label":"`...)
	out = append(out, res.Label...)
	out = append(out, `","score":`...)
	score := math.Round(res.Score*1e4) / 1e4
	if score == 0 {
		score = 0 // no "-0"
	}
	out = strconv.AppendFloat(out, score, 'f', -1, 64)
	out = append(out, `},"lang":"`...)
	out = append(out, res.Lang...)
	out = append(out, `","intent":{"feature_request":`...)
	out = strconv.AppendBool(out, fr)
	out = append(out, `,"question":`...)
	out = strconv.AppendBool(out, q)
	return append(out, "}}\n"...)
}

func errorLine(out []byte, msg string) []byte {
	b, _ := json.Marshal(msg)
	out = append(out, `{"error":`...)
	out = append(out, b...)
	return append(out, "}\n"...)
}
