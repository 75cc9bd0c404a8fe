package inbox

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/einsatz/einsatz/bot/request"
)

// Tokens normalises a text for matching: lower case, ß as ss, split on
// anything but letters and digits, stop words and request phrasing
// ("please add", "wäre schön") dropped, so what is left names the feature.
// No stemming: German compounds and inflections are left as they are.
func Tokens(text string) []string {
	text = strings.ToLower(strings.ReplaceAll(text, "ß", "ss"))
	fields := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	out := fields[:0]
	for _, f := range fields {
		if len([]rune(f)) < 2 || stopWords[f] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Similarity is the TF-IDF cosine of two texts, with idf from the given
// document frequencies over n documents (nil: plain term-count cosine).
func similarity(a, b []string, df map[string]int, n int) float64 {
	va, vb := weights(a, df, n), weights(b, df, n)
	var dot, na, nb float64
	for t, w := range va {
		na += w * w
		dot += w * vb[t]
	}
	for _, w := range vb {
		nb += w * w
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func weights(tokens []string, df map[string]int, n int) map[string]float64 {
	w := map[string]float64{}
	for _, t := range tokens {
		w[t]++
	}
	for t, tf := range w {
		idf := 1.0
		if df != nil {
			idf = math.Log(float64(n+1)/float64(df[t]+1)) + 1
		}
		w[t] = (1 + math.Log(tf)) * idf
	}
	return w
}

// stopWords are English and German function words plus the words people
// use to ask for something, which say nothing about what they ask for.
var stopWords = func() map[string]bool {
	words := `a an the and or but if then else of to in on at by for with from into onto about as is are was were be been being
am do does did doing have has had having it its this that these those there here what which who whom whose when where why how
i me my mine we us our you your yours he him his she her they them their not no nor so too very can could would should will
shall may might must just also only even still yet again more most some any all each every both few other such own same than
get got let lets like really maybe please pls plz thanks thank thx hi hello hey guys folks team dev devs developers anyone
add adding added support supported supporting feature features request requests requesting option options ability able
way possible possibility great nice cool awesome good love would wish hope want wanted need needs needed missing lack lacks
make makes making use using used having see seem seems think idea ideas suggestion suggest suggesting someday soon future
implement implemented implementing include included including allow allows allowing enable enabled provide provided
der die das den dem des ein eine einen einem einer eines und oder aber wenn dann sonst von zu zum zur im in an am auf bei
für mit aus nach über unter um ist sind war waren sein bin bist seid wird werden wurde wurden hat haben hatte hatten es
dies diese dieser dieses diesen jene da hier was wer wen wem wessen wann wo warum wie ich mich mir mein meine wir uns unser
unsere du dich dir dein deine ihr euch euer eure er ihn ihm sein seine sie ihnen ihre nicht kein keine keinen so sehr kann
können könnt könnte könntet könnten würde würden würdet sollte sollten wird muss müsste auch nur noch schon doch mal bitte
danke hallo leute gibt gäbe geben hinzufügen hinzu einbauen baut bauen eingebaut unterstützung unterstützen unterstützt
funktion funktionen option optionen möglichkeit möglich wäre wären schön toll super cool gut gerne gern fehlt fehlen
vermisse vermissen wünsche wünschen wunsch brauche brauchen benötige idee vorschlag irgendwann bald zukunft einfach
man etwa dass ob weil`
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[strings.ReplaceAll(w, "ß", "ss")] = true
	}
	return m
}()

// matchEmbedded finds the open item whose title or a mention is closest
// in meaning to text: the best cosine of their embeddings, over the newest
// maxCachedVectors open texts. Embeddings are cached by a hash of the text,
// so each text is embedded once; texts not embedded yet are read from the
// store. No lock is held while the embeddings endpoint is asked.
func (s *Service) matchEmbedded(ctx context.Context, text string) (int, float64, error) {
	docs := s.idx.newest(maxCachedVectors)
	if len(docs) == 0 {
		return 0, 0, nil
	}
	q := sha256.Sum256([]byte(text))
	s.vecMu.Lock()
	if s.vecs == nil || len(s.vecs) > 2*maxCachedVectors {
		s.vecs = map[[32]byte][]float32{} // start over rather than grow without bound
	}
	missing := map[[32]byte]bool{}
	var items []int
	seen := map[int]bool{}
	for _, d := range docs {
		if _, ok := s.vecs[d.key]; !ok && !missing[d.key] {
			missing[d.key] = true
			if !seen[d.item] {
				seen[d.item] = true
				items = append(items, d.item)
			}
		}
	}
	_, haveQ := s.vecs[q]
	s.vecMu.Unlock()

	var texts []string
	if !haveQ {
		texts = append(texts, text)
	}
	for _, id := range items {
		it, err := s.o.Store.Item(ctx, id)
		if err != nil {
			return 0, 0, fmt.Errorf("inbox: read #%d for embedding: %w", id, err)
		}
		for _, t := range append([]string{it.Title}, mentionTexts(it)...) {
			if k := sha256.Sum256([]byte(t)); missing[k] {
				delete(missing, k)
				texts = append(texts, t)
			}
		}
	}
	for len(texts) > 0 {
		batch := texts[:min(len(texts), embedBatch)]
		texts = texts[len(batch):]
		vecs, err := s.o.Embed(ctx, batch)
		if err != nil {
			return 0, 0, err
		}
		if len(vecs) != len(batch) {
			return 0, 0, fmt.Errorf("inbox: %d embeddings for %d texts", len(vecs), len(batch))
		}
		s.vecMu.Lock()
		for i, t := range batch {
			s.vecs[sha256.Sum256([]byte(t))] = vecs[i]
		}
		s.vecMu.Unlock()
	}
	s.vecMu.Lock()
	defer s.vecMu.Unlock()
	best, score := 0, 0.0
	qv := s.vecs[q]
	// docs are newest first; ties go to the older item, as word matching does.
	for i := len(docs) - 1; i >= 0; i-- {
		if c := cosine(qv, s.vecs[docs[i].key]); c > score || (c == score && c > 0 && docs[i].item < best) {
			best, score = docs[i].item, c
		}
	}
	return best, score, nil
}

func mentionTexts(it request.Item) []string {
	out := make([]string, len(it.Mentions))
	for i, m := range it.Mentions {
		out[i] = m.Text
	}
	return out
}

// loadIndex builds the index from the store once (at the first request).
func (s *Service) loadIndex(ctx context.Context) error {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if s.idxLoaded {
		return nil
	}
	items, err := s.o.Store.Items(ctx)
	if err != nil {
		return fmt.Errorf("inbox: read items: %w", err)
	}
	for _, it := range items {
		s.idx.put(it)
	}
	s.idxLoaded = true
	return nil
}

// indexPut brings the index up to date with an item just written.
func (s *Service) indexPut(it request.Item) {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if s.idxLoaded {
		s.idx.put(it)
	}
}

// indexDrop forgets an item that no longer collects requests.
func (s *Service) indexDrop(id int) {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if s.idxLoaded {
		s.idx.drop(id)
	}
}

// indexAdd adds a mention just written to its item.
func (s *Service) indexAdd(id int, text string) {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if s.idxLoaded {
		s.idx.add(id, text)
	}
}

// sharedStore is a store other processes change too (cluster mode): it
// tells the service when they did.
type sharedStore interface {
	OnChange(func())
}

// changed: another process filed, joined, merged or changed items. The
// word index knows only this process's writes, so it is rebuilt from the
// store at the next request (the full-text search takes changes in from
// the store by itself).
func (s *Service) changed() {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	s.idx.reset()
	s.idxLoaded = false
}

// Reindex forgets the index; the next request rebuilds it from the store.
// Erasure calls it, so no word of an erased mention stays in memory.
func (s *Service) Reindex() {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	s.idx.reset()
	s.idxLoaded = false
	s.vecMu.Lock()
	s.vecs = nil
	s.vecMu.Unlock()
	s.dropSearch()
}

// maxCachedVectors bounds the embedding cache; embedBatch is how many texts
// go to the embeddings endpoint in one request.
const (
	maxCachedVectors = 20000
	embedBatch       = 64
)

func cosine(a, b []float32) float64 {
	if len(a) == 0 || len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
