// Package reading gives a message addressed to the bot its one primary
// reading — question, feature request, asks for a human, complaint, thanks,
// greeting or small talk, other — so it gets exactly one response of that
// kind (see bot.Reading). English and German.
//
// It combines the detectors the features already have (the question model
// of handlers/knowledge, the feature-request model of handlers/inbox/detect,
// the hand-off's "talk to a human" words, the sentiment score) with word
// lists for what none of them covers: greetings, thanks, small talk,
// complaints. Order decides between readings a message carries together:
// asking for a person wins, then a complaint, a feature request, a
// question; thanks and greetings only when nothing else is asked ("thanks,
// and how do I …?" is a question).
package reading

import (
	"context"
	"regexp"
	"strings"
	"unicode"

	"github.com/einsatz/einsatz/bot"
)

// Options are the detectors the reader combines; nil ones are skipped.
type Options struct {
	// Question scores how much a text asks something (0…1).
	Question func(text string) float64
	// Request scores a text as a feature request (0…1).
	Request          func(text, lang string) float64
	RequestThreshold float64 // default 0.5
	// Human tells whether a text asks for a person.
	Human func(text string) bool
	// Sentiment scores a text (-1…1).
	Sentiment func(text, lang string) float64
}

// Reader reads messages. It is safe for concurrent use.
type Reader struct{ o Options }

// New returns a reader.
func New(o Options) *Reader {
	if o.RequestThreshold <= 0 {
		o.RequestThreshold = 0.5
	}
	return &Reader{o: o}
}

var (
	// Openers that carry no question: greetings, self-introductions.
	greeting = regexp.MustCompile(`(?i)^\s*(hi+|hii+|hello|hey+|heya|howdy|yo|hallo|halli hallo|moin( moin)?|servus|grüß (dich|gott|euch)|gruezi|grüezi|good (morning|afternoon|evening|day)|guten (morgen|tag|abend)|hi there|hey there|greetings|morning|n'abend|nabend|tach|tag)\b[\s,!.:;)\-]*(everyone|everybody|all|folks|guys|people|team|there|zusammen|leute|alle|miteinander|ihr|einsatz)?[\s,!.:;)\-]*`)
	intro    = regexp.MustCompile(`(?i)^\s*((i'?m|i am|my name is|this is|ich bin|mein name ist|ich heiße|hier ist)\s+[\p{L}\-']+|(i|we)\s+(just\s+)?(joined|run|moderate|manage|maintain|am new|are new)|(ich|wir)\s+(bin|sind)\s+neu|(ich|wir)\s+(betreue|betreuen|moderiere|moderieren|leite|leiten|habe|haben)|bin neu|new here|neu hier)\b`)
	thanks   = regexp.MustCompile(`(?i)\b(thanks?( you)?( so much| a lot| very much)?|thx|thnx|ty|tysm|cheers|much appreciated|appreciate it|danke( dir| euch| schön| sehr)?|dankeschön|vielen dank|merci|besten dank|perfect|perfekt|got it|alles klar|hat geklappt|that worked|works now|läuft jetzt|passt|great|super|awesome|cool|nice|top|good bot|ok(ay)?|k|👍|🙏|❤️|🙂|😊)\b|👍|🙏|❤️|🙂|😊`)
	// Saying a problem is solved, beside thanks.
	solved = regexp.MustCompile(`(?i)\b(helped|helps|worked|works( now)?|solved|fixed|did the trick|makes sense|geholfen|hilft|geklappt|klappt|funktioniert( jetzt)?|gelöst|läuft)\b`)
	// Small talk the bot greets back: how it is, the weather.
	smallTalk = regexp.MustCompile(`(?i)^\s*(how are you|how're you|how is it going|how's it going|what's up|wassup|wie geht'?s|wie geht es (dir|euch|ihnen)|was geht|alles gut|nice weather|schönes wetter|good night|gute nacht)\b`)
	// Signatures and sign-offs.
	signOff = regexp.MustCompile(`(?im)^\s*(best|regards|best regards|kind regards|cheers|thanks|thx|viele grüße|vg|lg|liebe grüße|beste grüße|mfg|gruß|grüße)[,!.]?\s*(\n.*)?$`)
	// Complaint words: anger at the product, the bot or the support.
	complaint = regexp.MustCompile(`(?i)\b(worst|useless|garbage|trash|rubbish|crap|sucks|awful|terrible|horrible|ridiculous|pathetic|furious|angry|annoyed|annoying|frustrat\w*|fed up|sick of|hate|disappointed|unacceptable|waste of time|nobody helps|no one helps|nothing works|broke everything|keeps? (giving|breaking|failing)|schlecht\w*|nervt|nervig|genervt|katastroph\w*|furchtbar|schrecklich|ärgerlich|wütend|sauer|unbrauchbar|mist|scheiß\w*|frustrier\w*|enttäuscht|unverschämt|nichts funktioniert|funktioniert nichts|keine antwort|versteht mich (einfach )?nicht|zum kotzen)\b`)
	// Words that turn praise into a problem report ("great, but …").
	contrast = regexp.MustCompile(`(?i)\b(but|however|except|although|though|still|only|unless|not|n't|no|never|aber|jedoch|allerdings|trotzdem|nur|außer|nicht|kein\w*|nie)\b|n't\b`)
	// Links, code and pasted logs say nothing about the kind of message.
	codeBlock = regexp.MustCompile("(?s)```.*?```|`[^`]*`")
	logLine   = regexp.MustCompile(`(?m)^\s*(\d{4}-\d\d-\d\d[T ]\d\d:\d\d\S*|\[?(ERROR|WARN|INFO|DEBUG|TRACE)\]?|at [\w.$]+\(|panic:|goroutine \d+|Traceback|\s+File ").*$`)
	redacted  = regexp.MustCompile(`\[(email|phone|token|key|secret|card|iban|url|redacted)[^\]]*\]`)
)

// Core is the part of a message that asks something: without greetings and
// self-introductions at the start, sign-offs, pasted code and logs, and
// redacted personal data. It may be "" (the message only greets or thanks).
func Core(text string) string {
	text = codeBlock.ReplaceAllString(text, " ")
	text = logLine.ReplaceAllString(text, " ")
	text = redacted.ReplaceAllString(text, " ")
	text = signOff.ReplaceAllString(text, "")
	var keep []string
	for _, s := range sentences(text) {
		s = strings.TrimSpace(greeting.ReplaceAllString(s, ""))
		if s == "" || intro.MatchString(s) && !strings.Contains(s, "?") {
			continue
		}
		keep = append(keep, s)
	}
	out := strings.Join(keep, " ")
	if !strings.ContainsFunc(out, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return "" // emoji and punctuation only
	}
	return out
}

// sentences splits a text after ".", "!", "?" and at line ends, keeping the marks.
func sentences(text string) []string {
	var out []string
	start := 0
	rs := []rune(text)
	for i, r := range rs {
		end := r == '\n' || ((r == '.' || r == '!' || r == '?') && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])))
		if end {
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

// Read gives the message its reading.
func (r *Reader) Read(text, lang string) bot.Reading {
	if r.o.Human != nil && r.o.Human(text) {
		return bot.ReadingHuman
	}
	core := Core(text)
	words := contentWords(core)
	asks := strings.Contains(core, "?") || (r.o.Question != nil && r.o.Question(core) >= 0.5)
	if complaint.MatchString(text) && (!asks || r.negative(text, lang)) {
		return bot.ReadingFrustration
	}
	if r.o.Request != nil && words > 0 && r.o.Request(core, lang) >= r.o.RequestThreshold {
		return bot.ReadingRequest
	}
	if smallTalk.MatchString(core) && words <= 6 {
		return bot.ReadingGreeting
	}
	if asks {
		return bot.ReadingQuestion
	}
	// What is left once thanks and greetings are gone decides the rest.
	rest := contentWords(thanks.ReplaceAllString(core, " "))
	switch {
	case core == "" && thanks.MatchString(text) && !greeting.MatchString(text):
		return bot.ReadingThanks
	case core == "":
		return bot.ReadingGreeting
	case rest == 0 && thanks.MatchString(core), thanks.MatchString(core) && solved.MatchString(core) && rest <= 5:
		// "thanks, that helped a lot!", "danke, hat geholfen"
		return bot.ReadingThanks
	case r.praise(core, lang):
		// "I love this bot, it answered everything in seconds": praise is
		// thanks, not a problem to look up.
		return bot.ReadingThanks
	case words >= 4:
		// A statement of a problem ("the bot does not answer in #general")
		// asks for help without a question mark.
		return bot.ReadingQuestion
	}
	return bot.ReadingOther
}

// praise: a short, clearly positive statement about the bot or the
// product, with no problem word and no "but" that could turn it into a
// problem report (a long message tells more than praise). Without a
// sentiment scorer nothing is praise.
func (r *Reader) praise(core, lang string) bool {
	if r.o.Sentiment == nil || contentWords(core) > 12 || contrast.MatchString(core) || complaint.MatchString(core) {
		return false
	}
	if r.o.Question != nil && r.o.Question(core) >= 0.25 {
		return false // may ask something without a question mark
	}
	return r.o.Sentiment(core, lang) >= 0.4
}

// negative: in a question a complaint word alone is not a complaint ("is
// it annoying to set up?"); the sentiment must agree, and without a
// sentiment scorer the words decide.
func (r *Reader) negative(text, lang string) bool {
	if r.o.Sentiment == nil {
		return true
	}
	return r.o.Sentiment(text, lang) < -0.2
}

// contentWords counts words of three or more letters or digits.
func contentWords(s string) int {
	n := 0
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len([]rune(f)) >= 3 {
			n++
		}
	}
	return n
}

// Routes answer the readings no feature owns: a greeting is greeted back
// with what the bot does, thanks get a short "you're welcome", and other
// small talk ("lol", "brb") gets nothing. text gives the texts greeting
// (placeholder {bot} filled in by text) and welcome.
func Routes(text func(lang, key string) string) []bot.Route {
	say := func(key string) bot.Handler {
		return bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
			return []bot.Reply{{Text: text(ev.Lang, key)}}, nil
		})
	}
	return []bot.Route{
		{Name: "greeting", Match: bot.Reads(bot.ReadingGreeting), Handler: say("greeting")},
		{Name: "thanks", Match: bot.Reads(bot.ReadingThanks), Handler: say("welcome")},
		{Name: "other", Match: bot.Reads(bot.ReadingOther), Handler: bot.HandlerFunc(func(context.Context, *bot.Event) ([]bot.Reply, error) { return nil, nil })},
	}
}
