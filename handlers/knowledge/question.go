package knowledge

import (
	"maps"
	"slices"

	"github.com/einsatz/einsatz/bot/lang/scan"
)

// Question detection for the "auto" channel policy: does a chat message ask
// something the bot might answer?
//
// The detector is a small logistic regression over hand-made features of
// the message (the q… constants below): where the question marks are, whether a clause
// opens with a question word or with an inverted verb ("Does it …", "Kann
// ich …"), request phrases ("can someone explain", "weiß jemand"), and the
// signs of messages that only look like questions: rhetorical markers ("Who
// even …", "Wer braucht das schon?"), exclamations ("What a …", "Wie geil
// …"), hedged statements ("I guess that's it?"), verb-first statements that
// end with a full stop ("Muss ich mir mal anschauen.") and questions quoted
// in a bug report. The weights (questionWeights) were fitted by
// TestTrainQuestionModel on handlers/knowledge/testdata/questions_train.jsonl;
// the labelled set the detector is measured on (testdata/questions.jsonl at
// the repository root) was written first and is kept apart from training.
//
// IsQuestion does not allocate: the message is lower-cased into a buffer on
// the stack (by the scanner of bot/lang/scan) and the word lists are looked
// up with byte-slice keys.

// A message longer than this is judged by its first and its last
// qWindow/2 bytes: where a long message asks, it asks at the start or at
// the end.
const qWindow = 384

// qMaxTokens bounds the words looked at per window.
const qMaxTokens = 64

// Features of a message; qBias is always 1.
const (
	qBias         = iota
	qEnd          // the message ends with "?"
	qMid          // a sentence before the last one ends with "?"
	qWHFirst      // the first clause opens with a question word
	qWHLater      // a later clause opens with a question word
	qInvFirst     // the first clause opens with a verb before its subject ("Does it", "Kann ich")
	qInvLater     // a later clause does
	qRequest      // a request for help or information ("anyone know", "weiß jemand", "question:")
	qExclaim      // the message ends with "!"
	qPeriod       // the message ends with "."
	qRhetorical   // a marker of rhetorical questions ("even", "who cares", "wer … schon")
	qExclamative  // "What a …", "How cool …", "Was für …", "Wie geil …"
	qSubordinate  // a question word opening a statement ("When I run …", "Wie gesagt", "wie man …")
	qHedge        // a hedged statement ("I guess …", "Ich glaub …")
	qThanks       // thanks
	qInvStatement // a verb-first sentence that ends with "." or "!" ("Kann ich bestätigen.")
	qNumFeatures
)

var qFeatureNames = [qNumFeatures]string{
	"bias", "end?", "mid?", "wh-first", "wh-later", "inv-first", "inv-later", "request",
	"end!", "end.", "rhetorical", "exclamative", "subordinate", "hedge", "thanks", "inv-statement",
}

// questionWeights are the logistic regression weights, fitted by
// TestTrainQuestionModel (EINSATZ_TRAIN_QUESTIONS=1) on
// testdata/questions_train.jsonl.
var questionWeights = [qNumFeatures]float64{
	-1.63, // bias
	2.02,  // end?
	1.32,  // mid?
	2.10,  // wh-first
	1.00,  // wh-later
	2.38,  // inv-first
	1.15,  // inv-later
	3.38,  // request
	-1.26, // end!
	-1.47, // end.
	-3.75, // rhetorical
	-0.70, // exclamative
	0.00,  // subordinate
	-1.56, // hedge
	-0.73, // thanks
	-1.42, // inv-statement
}

// IsQuestion reports whether a chat message (English or German) asks
// something: a question, with or without a question mark, or a request for
// help or information. Rhetorical questions, exclamations, hedged statements
// ending in "?", greetings, thanks and bug reports phrased as statements are
// not questions. It is cheap (no allocations, about a microsecond) and safe
// for concurrent use.
func IsQuestion(text string) bool {
	return QuestionScore(text) > 0.5
}

// QuestionScore is the detector's probability (0..1) that text asks
// something. IsQuestion is QuestionScore(text) > 0.5.
func QuestionScore(text string) float64 {
	f := questionFeatures(text)
	return scan.Logistic(questionWeights[:], f[:])
}

// questionFeatures returns the features of text. A long text is judged by
// its first and last part; a feature is set if it is set in either.
func questionFeatures(text string) [qNumFeatures]float64 {
	if len(text) <= qWindow {
		return windowFeatures(text, true)
	}
	head := text[:scan.RuneCut(text, qWindow/2)]
	tail := text[scan.RuneCut(text, len(text)-qWindow/2):]
	f := windowFeatures(head, false)
	g := windowFeatures(tail, true)
	for i := range f {
		f[i] = max(f[i], g[i])
	}
	// The end of the message is the end of the tail.
	f[qEnd], f[qExclaim], f[qPeriod] = g[qEnd], g[qExclaim], g[qPeriod]
	return f
}

// qScanner scans messages for the question detector: "@einsatz" and
// "#help" are words.
var qScanner = scan.New(scan.Config{WordChars: "_@#"})

// qTokenize splits s into words and the punctuation between them. Text in
// quotes ('what is einsatz?', "…", „…“) is skipped: a quoted question is
// not the writer's question. Emoji and other symbols are ignored.
func qTokenize(s *scan.Text) {
	i := 0
	prevWord := false // the previous rune was part of a word
	for i < s.N && !s.Full() {
		r, size := s.RuneAt(i)
		switch {
		case s.IsWordRune(r):
			start := i
			i = s.WordEnd(i)
			s.AddWord(start, i)
			prevWord = true
			continue
		case r == '\'' || r == '"':
			if !prevWord && s.WordAt(i+1) {
				if end := closingQuote(s, i+1, byte(r)); end > 0 {
					i = end + 1
					continue
				}
			}
		case r == '?' || r == '!' || r == '.' || r == ',' || r == ':' || r == ';':
			s.Break(byte(r))
		case r == '\n':
			s.Break('\n')
		case r == '-' || r == '–' || r == '—':
			if !prevWord {
				s.Break(',') // " - " separates clauses
			}
		}
		prevWord = false
		i += size
	}
}

// closingQuote returns the index of the quote q that closes a quotation
// opened before from, or -1: a q not followed by a letter, on the same line.
func closingQuote(s *scan.Text, from int, q byte) int {
	for j := from; j < s.N; j++ {
		switch s.Buf[j] {
		case '\n':
			return -1
		case q:
			if !s.WordAt(j+1) && (q == '"' || s.Buf[j-1] != ' ') {
				return j
			}
		}
	}
	return -1
}

// sentenceEnd reports whether punctuation ends a sentence.
func sentenceEnd(b byte) bool { return b == '?' || b == '!' || b == '.' || b == '\n' }

// Kinds of clause openings.
const (
	openOther = iota
	openWH    // question word: "how does", "wo finde"
	openInv   // verb before subject: "does it", "kann ich"
	openSub   // question word opening a statement: "when I run", "wie gesagt"
	openExcl  // exclamation: "what a", "wie geil"
)

// windowFeatures computes the features of one window of a message. last
// says whether the window ends the message.
func windowFeatures(text string, last bool) [qNumFeatures]float64 {
	var f [qNumFeatures]float64
	f[qBias] = 1
	var buf [qWindow + 8]byte
	var toks [qMaxTokens]scan.Token
	s := qScanner.Text(buf[:], toks[:])
	s.Lower(text, qWindow)
	qTokenize(&s)
	if s.NT == 0 {
		return f
	}
	set := func(i int) { f[i] = 1 }

	final := s.Toks[s.NT-1].Brk
	switch final {
	case '?':
		set(qEnd)
	case '!':
		set(qExclaim)
	case '.':
		set(qPeriod)
	}

	// Clauses: runs of words between punctuation.
	clause := 0
	sentenceInv := false // the current sentence opened with an inverted verb
	for i := 0; i < s.NT; {
		j := i // end of the clause (exclusive)
		for j < s.NT && s.Toks[j].Brk == 0 {
			j++
		}
		if j < s.NT {
			j++
		}
		brk := s.Toks[j-1].Brk
		if brk == '?' && j < s.NT {
			set(qMid)
		}
		start := skipFillers(&s, i, j)
		kind := openOther
		if start < j {
			kind = clauseOpening(&s, start, j)
		}
		pre := preamble(&s, i, start, j, kind)
		switch kind {
		case openWH:
			if clause == 0 {
				set(qWHFirst)
			} else {
				set(qWHLater)
			}
		case openInv:
			if clause == 0 {
				set(qInvFirst)
			} else {
				set(qInvLater)
			}
			if i == 0 || sentenceEnd(s.Toks[i-1].Brk) || s.Toks[i-1].Brk == ':' {
				sentenceInv = true
			}
		case openSub:
			if clause == 0 {
				set(qSubordinate)
			}
		case openExcl:
			set(qExclamative)
		}
		if sentenceEnd(brk) || j == s.NT {
			if sentenceInv && (brk == '.' || brk == '!') {
				set(qInvStatement)
			}
			sentenceInv = false
		}
		// A label such as "question:" or "quick q -" announces a question.
		if j-start <= 3 && j > start && (brk == ':' || brk == ',') && questionLabel[string(s.Word(j-1))] {
			set(qRequest)
		}
		if start < j && !pre {
			clause++
		}
		i = j
	}

	// Phrases anywhere in the message: one lookup per word says whether
	// it can start one.
	for i := 0; i < s.NT; i++ {
		wb := s.Word(i)
		if len(wb) > maxRoleLen {
			continue
		}
		w := string(wb)
		role := phraseRoles[w]
		if role == 0 {
			continue
		}
		next := ""
		if role&(roleRequest|roleRhetorical) != 0 && (s.Toks[i].Brk == 0 || s.Toks[i].Brk == ',') {
			next = string(s.Word(i + 1))
		}
		if role&roleRequest != 0 && requestPairs[w][next] || (i == 0 && role&roleRequestStart != 0) {
			set(qRequest)
		}
		if role&roleRhetorical != 0 && rhetoricalPairs[w][next] || role&roleRhetoricalWord != 0 {
			set(qRhetorical)
		}
		if role&roleThanks != 0 {
			set(qThanks)
		}
	}
	// "Wer braucht das schon?", "Who even …": wer/who with schon/even in
	// the first sentence.
	if first := string(s.Word(skipFillers(&s, 0, s.NT))); first == "wer" || first == "who" {
		for i := 1; i < s.NT && !sentenceEnd(s.Toks[i-1].Brk); i++ {
			if w := string(s.Word(i)); w == "schon" || w == "even" {
				set(qRhetorical)
			}
		}
	}
	if hedgeStarts[string(s.Word(0))] && hedgeVerbs[string(s.Word(1))] || hedgeWords[string(s.Word(0))] {
		set(qHedge)
	}
	if !last {
		f[qEnd], f[qExclaim], f[qPeriod] = 0, 0, 0
	}
	return f
}

// skipFillers returns the index of the first word of the clause toks[i:j]
// that is not a filler ("so", "hey", "@einsatz").
func skipFillers(s *scan.Text, i, j int) int {
	for i < j {
		w := s.Word(i)
		if len(w) > 0 && (w[0] == '@' || fillers[string(w)]) {
			i++
			continue
		}
		break
	}
	return i
}

// preamble reports whether the clause toks[i:j] (with fillers up to start)
// only leads in: a greeting ("Hey all!", "Moin zusammen,") or a short label
// ("Quick one:").
func preamble(s *scan.Text, i, start, j, kind int) bool {
	if start >= j {
		return true
	}
	return (kind == openOther && greetings[string(s.Word(i))]) || (j-start <= 3 && s.Toks[j-1].Brk == ':')
}

// clauseOpening classifies how the clause toks[i:j] (i < j) opens.
func clauseOpening(s *scan.Text, i, j int) int {
	w := string(s.Word(i))
	next := ""
	if i+1 < j {
		next = string(s.Word(i + 1))
	}
	switch {
	case exclamativePairs[w][next]:
		return openExcl
	case w == "was" && englishAfterWas[next]:
		return openOther // English "was": "Was about to say …"
	case whWords[w]:
		if subordinateAfterWH[next] && !whContracted[w] {
			return openSub
		}
		return openWH
	case auxWords[w] && subjects[next]:
		return openInv
	}
	return openOther
}

// Roles of a word in phraseRoles.
const (
	roleRequest        = 1 << iota // first word of a request pair
	roleRequestStart               // a request when it opens the message
	roleRhetorical                 // first word of a rhetorical pair
	roleRhetoricalWord             // rhetorical on its own
	roleThanks
)

// phraseRoles maps the words that play a role in phrases to their roles;
// none is longer than maxRoleLen bytes.
var phraseRoles, maxRoleLen = func() (map[string]uint8, int) {
	m, n := map[string]uint8{}, 0
	for role, set := range map[uint8][]string{
		roleRequest:        slices.Collect(maps.Keys(requestPairs)),
		roleRequestStart:   slices.Collect(maps.Keys(requestStarts)),
		roleRhetorical:     slices.Collect(maps.Keys(rhetoricalPairs)),
		roleRhetoricalWord: slices.Collect(maps.Keys(rhetoricalWords)),
		roleThanks:         slices.Collect(maps.Keys(thanksWords)),
	} {
		for _, w := range set {
			m[w] |= role
			n = max(n, len(w))
		}
	}
	return m, n
}()

func words(s string) map[string]bool {
	m := map[string]bool{}
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\n' || s[i] == '\t' {
			if start >= 0 {
				m[s[start:i]] = true
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return m
}

// pairs parses "a:b c d|e:f" into a → {b, c, d}, e → {f}.
func pairs(s string) map[string]map[string]bool {
	m := map[string]map[string]bool{}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '|' {
			continue
		}
		part := s[start:i]
		start = i + 1
		for k := 0; k < len(part); k++ {
			if part[k] != ':' {
				continue
			}
			for first := range words(part[:k]) {
				if m[first] == nil {
					m[first] = map[string]bool{}
				}
				for second := range words(part[k+1:]) {
					m[first][second] = true
				}
			}
			break
		}
	}
	return m
}

var (
	whWords = words(`what what's whats wat how how's hows why where where's wheres when which who who's whom whose
		was wie warum wieso weshalb wo woher wohin wann welche welcher welches welchen welchem wer wen wem wessen
		wieviel wieviele wozu womit worauf wofür woran worüber wovon`)
	// Question words with the verb attached: "what's the …" is a question.
	whContracted = words(`what's whats how's hows where's wheres who's`)
	// After "was", words that make it the English past tense.
	englishAfterWas = words(`about just going gonna a an the so really never not already able told trying thinking
		wondering expecting literally totally`)
	// A question word followed by these opens a statement or a subordinate
	// clause: "When I run …", "Where the bot …", "Wie gesagt", "wie man …".
	subordinateAfterWH = words(`i we you they he she it my our their the this that
		gesagt erwartet immer auch man ich du er sie es wir ihr`)
	auxWords = words(`do does did is are was were am can could will would should shall may might must has have had r
		isn't aren't doesn't don't didn't can't won't wouldn't shouldn't couldn't hasn't haven't wasn't weren't
		kann kannst können könnt könnte könnten muss musst müssen soll sollte sollen sollst darf darfst dürfen
		gibt gibts gibt's ist sind war bin bist hat hast habt haben hab habe wird wirst werden würde würdest wäre
		will willst wollt mag magst möchte funktioniert geht läuft klappt braucht brauche brauchst unterstützt
		lässt weiß weißt weiss weisst kennt kennst macht haste kannste biste weißte`)
	subjects = words(`i you u he she it we they there this that these those anyone anybody someone somebody
		everyone people ya y'all einsatz the my your our
		ich du er sie es man wir ihr jemand einer wer das der die den dem dies diese dieser ne nen sich`)
	fillers = words(`so ok okay k hmm hm hmmm wait also and but und aber na nun btw hey hi hello hallo moin servus
		yo sorry sry pls plz please bitte guys leute folks oh ah ahh well ehm äh ähm eh lol ja yes nein no
		anyway anyways übrigens ähh quick`)
	// Labels that announce a question when followed by ":" or ",".
	questionLabel = words(`question q frage qn`)
	// First word, second word of request phrases.
	requestPairs = pairs(`anyone anybody someone somebody: know knows explain help tell tried got have has
		| can could would: someone somebody anyone anybody
		| any: idea ideas chance way tips pointers
		| need needs: help
		| help: pls plz please me
		| i: wonder
		| explain: what how why where when which
		| weiß weiss weißt weisst: jemand wer einer ihr du
		| kann könnte mag kannst: mir jemand
		| hat: jemand
		| kennt: jemand sich
		| jemand: ne eine erfahrung
		| ne eine: idee ahnung
		| frage frag: mich
		| brauche brauch: hilfe
		| erklären: wie was warum wo welche
		| sagen: wie was wo welche ob`)
	requestStarts   = words(`wondering help hilfe`)
	rhetoricalWords = words(`anymore`)
	rhetoricalPairs = pairs(`who: cares knew am | could: possibly | how wie: hard schwer
		| why warum: not nicht | what: else | was: will | heute: noch | wer: hätte`)
	exclamativePairs = pairs(`what: a an | how: cool great awesome nice amazing sweet neat lovely
		| was: für | wie: geil cool toll schön krass genial super`)
	hedgeStarts = words(`i ich`)
	hedgeVerbs  = words(`guess think suppose believe glaub glaube denke schätze`)
	hedgeWords  = words(`probably vermutlich wahrscheinlich`)
	greetings   = words(`hey hi hello hallo moin servus yo morning evening gm`)
	thanksWords = words(`thanks thank thx ty tysm danke dank merci cheers`)
)
