package inbox

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/request/requesttest"
)

// scanBest is the old matcher, kept here as the reference: every open text
// of every item scored, idf over all open texts.
func scanBest(items []request.Item, text string) (int, float64) {
	q := Tokens(text)
	var docs [][]string
	var owner []int
	for _, it := range items {
		if !Open(it.Status) {
			continue
		}
		docs = append(docs, Tokens(it.Title))
		owner = append(owner, it.ID)
		for _, m := range it.Mentions {
			docs = append(docs, Tokens(m.Text))
			owner = append(owner, it.ID)
		}
	}
	df := map[string]int{}
	for _, d := range docs {
		seen := map[string]bool{}
		for _, t := range d {
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		}
	}
	best, score := 0, 0.0
	for i, d := range docs {
		if s := similarity(q, d, df, len(docs)); s > score {
			best, score = owner[i], s
		}
	}
	return best, score
}

// Test: the index scores exactly as a scan of the whole inbox does, also
// after items are joined, closed, reopened, merged away and the index is
// compacted.
func TestIndexAgreesWithFullScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 300)
	for i := range words {
		words[i] = fmt.Sprintf("w%03d", i)
	}
	phrase := func() string {
		s := ""
		for range 2 + rng.IntN(4) {
			s += words[int(math.Min(float64(len(words)-1), rng.ExpFloat64()*40))] + " "
		}
		return s
	}
	x := newIndex()
	var items []request.Item
	for id := 1; id <= 3000; id++ {
		it := request.Item{ID: id, Title: phrase(), Status: request.StatusNew}
		items = append(items, it)
		x.put(it)
		switch r := rng.IntN(10); {
		case r < 3 && id > 1: // a mention joins an older item
			k := rng.IntN(len(items))
			text := phrase()
			items[k].Mentions = append(items[k].Mentions, request.Mention{Text: text})
			if Open(items[k].Status) {
				x.add(items[k].ID, text)
			}
		case r < 5: // an item closes or reopens
			k := rng.IntN(len(items))
			if Open(items[k].Status) {
				items[k].Status = request.StatusShipped
			} else {
				items[k].Status = request.StatusPlanned
			}
			x.put(items[k])
		case r < 6: // merged away
			k := rng.IntN(len(items))
			items[k].Status = request.StatusDuplicate
			x.drop(items[k].ID)
		}
		if id%250 == 0 {
			q := phrase()
			wantID, want := scanBest(items, q)
			gotID, got := x.best(q)
			if math.Abs(got-want) > 1e-9 || (want > 0 && gotID != wantID) {
				t.Fatalf("after %d items, query %q: index #%d %.6f, scan #%d %.6f", id, q, gotID, got, wantID, want)
			}
		}
	}
	if x.dead != 0 && x.dead > x.live {
		t.Errorf("not compacted: %d dead, %d live", x.dead, x.live)
	}
}

// Test: a word held by more texts than maxPosting does not pull them all
// in; a text sharing a rarer word is still found.
func TestIndexBoundsCommonWords(t *testing.T) {
	x := newIndex()
	for id := 1; id <= maxPosting+500; id++ {
		x.put(request.Item{ID: id, Title: fmt.Sprintf("export t%d", id), Status: request.StatusNew})
	}
	x.put(request.Item{ID: 99999, Title: "export pdf", Status: request.StatusNew})
	if id, score := x.best("pdf export please"); id != 99999 || score < 0.5 {
		t.Errorf("best = #%d %.2f, want #99999", id, score)
	}
	x.best("export")
	n := 0
	for _, g := range x.seen {
		if g == x.gen {
			n++
		}
	}
	if n > 4*maxPosting || n == 0 {
		t.Errorf("%d candidates for one common word, want 1 to %d", n, 4*maxPosting)
	}
}

// Test: erasing a person drops their recent messages from memory and the
// word index (rebuilt from the store at the next request).
func TestEraseForgetsMemory(t *testing.T) {
	s := New(Options{Store: requesttest.NewMem()})
	defer s.Close()
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		s.seen.Add("discord/c/"+u, seenMessage{User: bot.User{Platform: "discord", ID: u}, Text: "please add dark mode"})
	}
	if _, err := s.Submit(ctx, request.Mention{Platform: "discord", Channel: "c", MessageID: "m1", UserID: "alice", Text: "please add dark mode"}, nil); err != nil {
		t.Fatal(err)
	}
	if !s.idxLoaded || s.idx.live == 0 {
		t.Fatal("index not built")
	}
	if _, err := s.Erase(ctx, "discord", "alice", "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.seen.Peek("discord/c/alice"); ok {
		t.Error("alice's message is still in memory")
	}
	if _, ok := s.seen.Peek("discord/c/bob"); !ok {
		t.Error("bob's message was dropped too")
	}
	if s.idxLoaded || s.idx.live != 0 {
		t.Error("the word index was kept")
	}
}
