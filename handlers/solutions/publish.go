package solutions

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/answer"
)

// Public answer pages (knowledge.publish): an approved candidate from a
// community thread goes public only when the asker agreed — the bot asks
// in the thread when staff approve it, and a ✅ on that question or a
// "yes" in the thread agrees — or when staff rewrote the answer in their
// own words (Rewritten: no consent needed). Removing the ✅, "no" or
// "unpublish" in the thread, deleting the solving message, or staff on the
// dashboard take it down again.

// Poster posts in a thread and tells the message's id; *bot.Bot
// implements it.
type Poster interface {
	Publish(ctx context.Context, to bot.ThreadRef, r bot.Reply) (string, error)
}

// publishTexts are the consent question and the answers to a reply.
var publishTexts = map[string]map[string]string{
	"en": {"ask": "The team added the answer in this thread to our knowledge base. May we also publish this Q&A (without names) on our public answers page? React ✅ to this message or reply yes; reply no to keep it private.",
		"given":    "Thanks! The Q&A will appear on our public answers page. Remove your ✅ or reply unpublish to take it down at any time.",
		"declined": "Understood: this Q&A stays off the public answers page."},
	"de": {"ask": "Das Team hat die Antwort aus diesem Thread in unsere Wissensdatenbank aufgenommen. Dürfen wir diese Frage und Antwort (ohne Namen) auch auf unserer öffentlichen Antwortseite veröffentlichen? Reagiere mit ✅ auf diese Nachricht oder antworte ja; antworte nein, wenn sie privat bleiben soll.",
		"given":    "Danke! Frage und Antwort erscheinen auf unserer öffentlichen Antwortseite. Entferne dein ✅ oder antworte unpublish, um sie jederzeit zurückzuziehen.",
		"declined": "Verstanden: Diese Frage und Antwort bleiben von der öffentlichen Antwortseite fern."},
}

func publishText(lang, key string) string {
	if t, ok := publishTexts[lang]; ok {
		return t[key]
	}
	return publishTexts["en"][key]
}

// consentWord reads a reply to the consent question: "yes", "no",
// "unpublish" or "".
func consentWord(text string) string {
	w := strings.ToLower(strings.Trim(strings.TrimSpace(text), ".!?,;:)( "))
	w = strings.Join(strings.Fields(w), " ")
	switch w {
	case "yes", "y", "yes please", "sure", "ok", "okay", "ja", "ja gerne", "gerne", "klar", "✅":
		return "yes"
	case "no", "n", "no thanks", "nein", "nein danke", "lieber nicht":
		return "no"
	case "unpublish", "/unpublish", "please unpublish", "nicht veröffentlichen", "bitte nicht veröffentlichen":
		return "unpublish"
	}
	return ""
}

// consentCache knows the threads whose candidate waits for or has the
// asker's consent, so the route's Match (which has no context) stays a
// map lookup.
type consentCache struct {
	once sync.Once
	mu   sync.Mutex
	open map[string]string // thread key → candidate id
}

func (s *Service) consentOpen(thread string) bool {
	s.consent.once.Do(func() {
		s.consent.open = map[string]string{}
		if s.o.Store == nil || !s.o.Publish {
			return
		}
		all, err := s.o.Store.Candidates(context.Background())
		if err != nil {
			s.o.Logger.Error("solutions: reading candidates for consent", "err", err)
			return
		}
		for _, c := range all {
			s.noteConsentLocked(c)
		}
	})
	s.consent.mu.Lock()
	defer s.consent.mu.Unlock()
	_, ok := s.consent.open[thread]
	return ok
}

func (s *Service) noteConsent(c solved.Candidate) {
	s.consentOpen("") // loads the cache first
	s.consent.mu.Lock()
	defer s.consent.mu.Unlock()
	s.noteConsentLocked(c)
}

func (s *Service) noteConsentLocked(c solved.Candidate) {
	if c.Status == solved.StatusApproved && (c.Consent == solved.ConsentAsked || c.Consent == solved.ConsentGiven) {
		s.consent.open[c.Thread.Key()] = c.ID
		return
	}
	delete(s.consent.open, c.Thread.Key())
}

// askConsent asks for consent when publishing is on and the candidate
// needs it (at approval). A failed post leaves the approval standing and
// the answer private; staff can ask again (AskConsent).
func (s *Service) askConsent(ctx context.Context, c solved.Candidate) (solved.Candidate, error) {
	if !s.o.Publish || c.Rewritten || c.Consent != "" || s.o.Poster == nil {
		return c, nil
	}
	if out, err := s.optedOut(ctx, c); err != nil || out {
		if err != nil {
			return c, err
		}
		return s.setConsent(ctx, c, solved.ConsentDeclined) // /publish-optout: never asked
	}
	asked, err := s.postConsent(ctx, c)
	if err != nil {
		s.o.Logger.Error("solutions: asking for consent to publish", "candidate", c.ID, "err", err)
		return c, nil
	}
	return asked, nil
}

// postConsent posts the consent question in the candidate's thread and
// stores that it was asked.
func (s *Service) postConsent(ctx context.Context, c solved.Candidate) (solved.Candidate, error) {
	id, err := s.o.Poster.Publish(ctx, c.Thread, bot.Reply{Text: publishText(c.Lang, "ask")})
	if err != nil {
		return c, fmt.Errorf("solutions: ask for consent: %w", err)
	}
	c.Consent, c.ConsentMessage, c.ConsentChanged = solved.ConsentAsked, id, s.o.Clock.Now()
	if err := s.o.Store.PutCandidate(ctx, c); err != nil {
		return c, err
	}
	s.noteConsent(c)
	return c, nil
}

// AskConsent asks an approved candidate's asker for consent now: for one
// approved while publishing was off or offline (einsatz kb approve with no
// server running), where nobody asked.
func (s *Service) AskConsent(ctx context.Context, id string) (solved.Candidate, error) {
	c, err := s.o.Store.Candidate(ctx, id)
	if err != nil {
		return c, err
	}
	if !s.o.Publish || s.o.Poster == nil {
		return c, errors.New("solutions: publishing is off")
	}
	if c.Status != solved.StatusApproved || c.Rewritten || c.Consent != "" {
		return c, fmt.Errorf("solutions: candidate %s: not waiting to be asked", id)
	}
	if out, err := s.optedOut(ctx, c); err != nil || out {
		if err != nil {
			return c, err
		}
		return s.setConsent(ctx, c, solved.ConsentDeclined) // /publish-optout: never asked
	}
	return s.postConsent(ctx, c)
}

// setConsent records the asker's decision ("given" or "declined").
func (s *Service) setConsent(ctx context.Context, c solved.Candidate, state string) (solved.Candidate, error) {
	if c.Consent == state {
		return c, nil
	}
	c.Consent, c.ConsentChanged = state, s.o.Clock.Now()
	if err := s.o.Store.PutCandidate(ctx, c); err != nil {
		return c, err
	}
	s.noteConsent(c)
	s.o.Logger.Info("solutions: consent to publish", "candidate", c.ID, "consent", state)
	return c, nil
}

// asker is the user id of the thread's first member message; the event's
// own sender when the history has none.
func asker(ev *bot.Event) string {
	for _, t := range ev.History {
		if t.Role == bot.RoleUser {
			return t.UserID
		}
	}
	if !ev.User.Staff && !ev.User.Bot {
		return ev.User.ID
	}
	return ""
}

// consentReaction handles a ✅ added to (consent) or removed from
// (withdrawal) the consent question, by the asker. It reports whether
// the reaction was about consent.
func (s *Service) consentReaction(ctx context.Context, ev *bot.Event) (bool, error) {
	// No cache here: a ✅ after an earlier "no" still agrees.
	if !s.o.Publish || ev.Target == nil || ev.Target.ID == "" {
		return false, nil
	}
	c, err := s.o.Store.Candidate(ctx, CandidateID(ev.Thread()))
	if errors.Is(err, solved.ErrNotExist) {
		return false, nil
	}
	if err != nil || c.ConsentMessage != ev.Target.ID {
		return false, err
	}
	if ev.User.ID == "" || ev.User.ID != asker(ev) {
		return true, nil // only the asker decides
	}
	state := solved.ConsentGiven
	if ev.Removed {
		state = solved.ConsentDeclined
	}
	_, err = s.setConsent(ctx, c, state)
	return true, err
}

// consentRoute is the route for "yes", "no" or "unpublish" by the asker
// in a thread whose candidate waits for or has consent.
func (s *Service) consentRoute() bot.Route {
	// BypassGate: the asker's decision counts in a thread staff own too.
	return bot.Route{Name: "publish-consent", Handler: bot.HandlerFunc(s.consentReply), BypassGate: true,
		Match: func(ev *bot.Event) bool {
			return s.o.Publish && ev.Kind == bot.KindMessage && !ev.User.Staff && consentWord(ev.Text) != "" &&
				s.consentOpen(ev.Thread().Key()) && ev.User.ID == asker(ev)
		}}
}

func (s *Service) consentReply(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	c, err := s.o.Store.Candidate(ctx, CandidateID(ev.Thread()))
	if err != nil {
		return nil, err
	}
	word := consentWord(ev.Text)
	state := solved.ConsentDeclined
	if word == "yes" {
		if c.Consent != solved.ConsentAsked {
			return nil, nil // already agreed: a later "yes" is just a word
		}
		state = solved.ConsentGiven
	}
	if word == "no" && c.Consent != solved.ConsentAsked {
		return nil, nil // "no" only answers the question; withdrawing says unpublish
	}
	if c, err = s.setConsent(ctx, c, state); err != nil {
		return nil, err
	}
	return []bot.Reply{{Text: publishText(c.Lang, c.Consent), Notice: true}}, nil
}

// deleted takes a non-rewritten answer down when the asker's question or
// the solving message is deleted on the platform.
func (s *Service) deleted(ctx context.Context, ev *bot.Event) error {
	if ev.MessageID == "" {
		return nil
	}
	c, err := s.o.Store.Candidate(ctx, CandidateID(ev.Thread()))
	if errors.Is(err, solved.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Rewritten || c.Consent == solved.ConsentDeclined {
		return nil
	}
	if ev.MessageID != ev.Thread().ThreadID && !strings.HasSuffix(c.Permalink, ev.MessageID) && !strings.Contains(c.Permalink, "p"+strings.ReplaceAll(ev.MessageID, ".", "")) {
		return nil
	}
	_, err = s.setConsent(ctx, c, solved.ConsentDeclined)
	return err
}

// SetRewritten marks a candidate as rewritten by staff (publishable
// without consent) or not.
func (s *Service) SetRewritten(ctx context.Context, id string, rewritten bool) (solved.Candidate, error) {
	c, err := s.o.Store.Candidate(ctx, id)
	if err != nil {
		return c, err
	}
	c.Rewritten = rewritten
	if err := s.o.Store.PutCandidate(ctx, c); err != nil {
		return c, err
	}
	return c, nil
}

// Unpublish takes an answer off the public pages (staff's decision): it
// is no longer rewritten and counts as declined.
func (s *Service) Unpublish(ctx context.Context, id string) (solved.Candidate, error) {
	c, err := s.o.Store.Candidate(ctx, id)
	if err != nil {
		return c, err
	}
	c.Rewritten = false
	return s.setConsent(ctx, c, solved.ConsentDeclined)
}

// Approved returns the approved candidates, newest review first.
func (s *Service) Approved(ctx context.Context) ([]solved.Candidate, error) {
	all, err := s.o.Store.Candidates(ctx)
	if err != nil {
		return nil, err
	}
	var out []solved.Candidate
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Status == solved.StatusApproved {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// Published returns what the public answer pages show, newest first:
// nothing when publishing is off.
func (s *Service) Published(ctx context.Context) ([]solved.Answer, error) {
	if !s.o.Publish {
		return nil, nil
	}
	all, err := s.Approved(ctx)
	if err != nil {
		return nil, err
	}
	var out []solved.Answer
	for _, c := range all {
		if c.Public() {
			out = append(out, s.answer(c))
		}
	}
	return out, nil
}

// PublishedAnswer returns one published answer by its candidate's ID (one
// read, for the answer's own page), and false when it is not public.
func (s *Service) PublishedAnswer(ctx context.Context, id string) (solved.Answer, bool, error) {
	if !s.o.Publish {
		return solved.Answer{}, false, nil
	}
	c, err := s.o.Store.Candidate(ctx, id)
	if errors.Is(err, solved.ErrNotExist) {
		return solved.Answer{}, false, nil
	}
	if err != nil || !c.Public() {
		return solved.Answer{}, false, err
	}
	return s.answer(c), true, nil
}

func (s *Service) answer(c solved.Candidate) solved.Answer {
	q, a := s.public.of(c.Question), s.public.of(c.Answer)
	updated := c.Reviewed
	if c.ConsentChanged.After(updated) {
		updated = c.ConsentChanged
	}
	return solved.Answer{ID: c.ID, Slug: Slug(q, c.ID), Question: q, Answer: a, Lang: c.Lang, Created: c.Created, Updated: updated}
}

var (
	// Platform mentions carry user ids: <@123>, <@!123>, <@U0ABC>,
	// <@U0ABC|name> (also after Redact took a long id for a number).
	mentionID = regexp.MustCompile(`<[@#][^<>\s]{1,64}>`)
	// @name at a word start (not an address's @, which Redact removed).
	mentionName = regexp.MustCompile(`(^|[\s(\[,;:])@[\p{L}\p{N}_.-]{2,32}`)
)

// PublicText is a text as the public pages may show it: redacted again
// (staff may have edited it) and without mentions of people.
func PublicText(text string) string {
	return publicText(text)
}

// publicTexts remembers PublicText's results: every public page lists the
// published answers, and redacting them all on each request made a page
// of 1,000 answers cost hundreds of milliseconds (BenchmarkPublicAnswerPage
// in adapters/web). The result depends on the text alone, so a change or
// an erasure still shows at once: Published reads the store each time.
type publicTexts struct {
	mu sync.Mutex
	m  map[string]string
}

// maxPublicTexts bounds the memo; past it, it starts again.
const maxPublicTexts = 8192

func (p *publicTexts) of(text string) string {
	p.mu.Lock()
	out, ok := p.m[text]
	p.mu.Unlock()
	if ok {
		return out
	}
	out = publicText(text)
	p.mu.Lock()
	if p.m == nil || len(p.m) >= maxPublicTexts {
		p.m = make(map[string]string)
	}
	p.m[text] = out
	p.mu.Unlock()
	return out
}

func publicText(text string) string {
	text = answer.Redact(text)
	text = mentionID.ReplaceAllString(text, "@…")
	text = mentionName.ReplaceAllString(text, "$1@…")
	return strings.TrimSpace(text)
}

// Slug is an answer's URL path segment: up to eight words of the question
// in lower-case ASCII letters and digits, then the candidate's id (the
// part that finds it, so an edited question keeps old links working).
func Slug(question, id string) string {
	var words []string
	for _, f := range strings.FieldsFunc(slugWords(question), func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		if len(words) == 8 {
			break
		}
		words = append(words, f)
	}
	return strings.Join(append(words, id), "-")
}

// asciiFold lower-cases and spells out the German letters and common
// accents: "Größe ändern" → "groesse aendern"; other letters split words.
var asciiFold = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "ae", "Ö", "oe", "Ü", "ue", "ß", "ss",
	"é", "e", "è", "e", "ê", "e", "á", "a", "à", "a", "â", "a", "ó", "o", "ò", "o", "ô", "o", "í", "i", "ú", "u", "ñ", "n", "ç", "c").Replace

func slugWords(s string) string { return strings.ToLower(asciiFold(s)) }

// IDFromSlug returns the candidate id at the end of a slug.
func IDFromSlug(slug string) string {
	if i := strings.LastIndexByte(slug, '-'); i >= 0 {
		return slug[i+1:]
	}
	return slug
}
