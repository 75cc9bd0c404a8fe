package inbox

import (
	"crypto/sha256"
	"math"
	"sync"

	"github.com/einsatz/einsatz/bot/request"
)

// index finds the open item a request means without reading the inbox: an
// inverted index from each word to the texts (an item's title and each of
// its mentions) that hold it, kept current as items are filed, joined,
// merged and closed. The score is the same TF-IDF cosine Match computes
// over the whole inbox; only the candidates differ: a text is scored when
// it shares a word with the request that at most maxPosting open texts
// hold (or, when every word is that common, when it is among the newest
// maxPosting texts of the rarest word). A text that shares only very common
// words with a request has a low cosine anyway, so the cost of a request
// is bounded by the request's words, not by the size of the inbox.
type index struct {
	mu    sync.Mutex
	docs  []doc
	items map[int][]int32 // item id → its live doc numbers
	terms map[string]int32
	post  [][]int32 // term → doc numbers, oldest first (may hold dead ones)
	df    []int     // term → live docs holding it
	live  int
	dead  int

	// Scratch for one query, under mu: idf memo and seen marks, stamped
	// with the query's generation so nothing is cleared between queries.
	gen     uint32
	idfMemo []float64
	idfGen  []uint32
	seen    []uint32
}

type doc struct {
	item  int
	key   [32]byte // SHA-256 of the text: finds its embedding, keeps no text
	terms []termFreq
	dead  bool
}

type termFreq struct {
	term int32
	w    float64 // 1 + log(tf)
}

// maxPosting bounds how many texts one word may pull in as candidates.
const maxPosting = 1000

func newIndex() *index {
	x := &index{}
	x.reset()
	return x
}

// reset empties the index.
func (x *index) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.docs, x.post, x.df, x.live, x.dead = nil, nil, nil, 0, 0
	x.items, x.terms = map[int][]int32{}, map[string]int32{}
	x.idfMemo, x.idfGen, x.seen = nil, nil, nil
}

// put replaces everything the index holds for an item with its current
// title and mentions, or drops the item when it no longer collects requests.
func (x *index) put(it request.Item) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropLocked(it.ID)
	if !Open(it.Status) {
		return
	}
	x.addLocked(it.ID, it.Title)
	for _, m := range it.Mentions {
		x.addLocked(it.ID, m.Text)
	}
}

// add indexes one more text of an open item.
func (x *index) add(id int, text string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addLocked(id, text)
}

// drop forgets an item (closed, merged away, erased).
func (x *index) drop(id int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropLocked(id)
}

func (x *index) termID(t string) int32 {
	id, ok := x.terms[t]
	if !ok {
		id = int32(len(x.post))
		x.terms[t] = id
		x.post = append(x.post, nil)
		x.df = append(x.df, 0)
		x.idfMemo = append(x.idfMemo, 0)
		x.idfGen = append(x.idfGen, 0)
	}
	return id
}

func (x *index) addLocked(id int, text string) {
	tf := map[string]int{}
	for _, t := range Tokens(text) {
		tf[t]++
	}
	n := int32(len(x.docs))
	d := doc{item: id, key: sha256.Sum256([]byte(text)), terms: make([]termFreq, 0, len(tf))}
	for t, c := range tf {
		tid := x.termID(t)
		d.terms = append(d.terms, termFreq{tid, 1 + math.Log(float64(c))})
		x.post[tid] = append(x.post[tid], n)
		x.df[tid]++
	}
	x.docs = append(x.docs, d)
	x.seen = append(x.seen, 0)
	x.items[id] = append(x.items[id], n)
	x.live++
}

func (x *index) dropLocked(id int) {
	for _, n := range x.items[id] {
		d := &x.docs[n]
		for _, tf := range d.terms {
			x.df[tf.term]--
		}
		d.dead, d.terms = true, nil
		x.live--
		x.dead++
	}
	delete(x.items, id)
	if x.dead > 1024 && x.dead > x.live {
		x.compactLocked()
	}
}

// compactLocked renumbers the live docs, so dead ones stop costing memory
// and posting-list scans.
func (x *index) compactLocked() {
	renum := make([]int32, len(x.docs))
	docs := make([]doc, 0, x.live)
	for i, d := range x.docs {
		renum[i] = -1
		if !d.dead {
			renum[i] = int32(len(docs))
			docs = append(docs, d)
		}
	}
	for t, ps := range x.post {
		out := ps[:0]
		for _, n := range ps {
			if r := renum[n]; r >= 0 {
				out = append(out, r)
			}
		}
		x.post[t] = out
	}
	for _, ns := range x.items {
		for i, n := range ns {
			ns[i] = renum[n]
		}
	}
	x.docs, x.dead, x.seen = docs, 0, make([]uint32, len(docs))
}

// best returns the open item whose title or a mention is most like text
// (TF-IDF cosine, idf over the open texts), and the score; 0 when none.
func (x *index) best(text string) (int, float64) {
	q := Tokens(text)
	if len(q) == 0 {
		return 0, 0
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.live == 0 {
		return 0, 0
	}
	x.gen++
	idf := func(t int32) float64 {
		if x.idfGen[t] != x.gen {
			x.idfGen[t] = x.gen
			x.idfMemo[t] = math.Log(float64(x.live+1)/float64(x.df[t]+1)) + 1
		}
		return x.idfMemo[t]
	}
	counts := map[int32]float64{}
	for _, t := range q {
		if id, ok := x.terms[t]; ok && x.df[id] > 0 {
			counts[id]++
		}
	}
	if len(counts) == 0 {
		return 0, 0
	}
	// The query's norm counts its unknown words too: they have idf as if in
	// no text, as Match's scan computes it.
	var qn float64
	qw := map[int32]float64{}
	unknown := map[string]float64{}
	for _, t := range q {
		if id, ok := x.terms[t]; !ok || x.df[id] == 0 {
			unknown[t]++
		}
	}
	for id, c := range counts {
		w := (1 + math.Log(c)) * idf(id)
		qw[id] = w
		qn += w * w
	}
	for _, c := range unknown {
		w := (1 + math.Log(c)) * (math.Log(float64(x.live+1)) + 1)
		qn += w * w
	}

	bestItem, bestScore := 0, 0.0
	score := func(n int32) {
		if x.seen[n] == x.gen {
			return
		}
		x.seen[n] = x.gen
		d := &x.docs[n]
		if d.dead {
			return
		}
		var dot, dn float64
		for _, tf := range d.terms {
			w := tf.w * idf(tf.term)
			dn += w * w
			dot += w * qw[tf.term]
		}
		if dn == 0 || dot == 0 {
			return
		}
		// Ties go to the older item, as Match's scan did.
		if s := dot / math.Sqrt(qn*dn); s > bestScore || (s == bestScore && d.item < bestItem) {
			bestItem, bestScore = d.item, s
		}
	}
	rarest := int32(-1)
	scored := false
	for id := range qw {
		if rarest < 0 || x.df[id] < x.df[rarest] || (x.df[id] == x.df[rarest] && id < rarest) {
			rarest = id
		}
		if x.df[id] <= maxPosting {
			for _, n := range x.post[id] {
				score(n)
			}
			scored = true
		}
	}
	if !scored {
		ps := x.post[rarest]
		for _, n := range ps[max(0, len(ps)-4*maxPosting):] { // dead ones included: room for them
			score(n)
		}
	}
	return bestItem, bestScore
}

// docRef is one open text: its item and the hash of its words.
type docRef struct {
	item int
	key  [32]byte
}

// newest lists the newest n open texts, for matching by embeddings (a
// brute-force cosine, so it is bounded).
func (x *index) newest(n int) []docRef {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []docRef
	for i := len(x.docs) - 1; i >= 0 && len(out) < n; i-- {
		if d := x.docs[i]; !d.dead {
			out = append(out, docRef{d.item, d.key})
		}
	}
	return out
}
