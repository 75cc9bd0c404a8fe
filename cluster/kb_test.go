package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
	"github.com/einsatz/einsatz/cluster"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// kbNode is a node's knowledge base: its own store and index, shared
// through the cluster's bucket.
type kbNode struct {
	shared *cluster.KB
	base   *knowledge.Base
	local  *kbtest.Mem
}

func (k *kbNode) finds(t *testing.T, q, want string) bool {
	t.Helper()
	hits, err := k.base.Search(context.Background(), q, 1)
	if err != nil {
		t.Fatal(err)
	}
	return len(hits) > 0 && strings.Contains(hits[0].Text, want)
}

// A knowledge change made on one node is answered from on the others: each
// node has its own store and index, the documents travel through the
// object store, and questions asked on Discord (the unmodified discordgo
// client against the fake) are answered by whichever node holds the
// question's partition, from its own index.
func TestKnowledgeSharedAcrossNodes(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	var mu sync.Mutex
	kbs := map[string]*kbNode{}
	// n3 had a knowledge base of its own before it joined: it is put in
	// the bucket for the others.
	before := kbtest.NewMem()
	putDoc(t, before, "added/opening-hours.md", "# Opening hours\n\nThe walrus desk opens at seven.")

	nodes := startClusterHandler(t, 3, 8, func(string) []bot.Adapter {
		da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, GuildIDs: []string{fd.Guild}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Adapter{da}
	}, func(tn *testNode) bot.Handler {
		local := kbtest.NewMem()
		if tn.name == "n3" {
			local = before
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shared, err := tn.node.KB(ctx, local)
		if err != nil {
			t.Fatal(err)
		}
		base := knowledge.NewBase(shared.Store(), nil, quiet)
		if err := base.Rebuild(ctx); err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := shared.Run(rctx, base); err != nil {
				t.Error(err)
			}
		})
		t.Cleanup(func() { stop(); wg.Wait() })
		mu.Lock()
		kbs[tn.name] = &kbNode{shared: shared, base: base, local: local}
		mu.Unlock()
		return bot.HandlerFunc(func(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
			hits, err := base.Search(ctx, ev.Text, 1)
			if err != nil {
				return nil, err
			}
			if len(hits) == 0 {
				return []bot.Reply{{Text: tn.name + ": no answer"}}, nil
			}
			return []bot.Reply{{Text: tn.name + ": " + hits[0].Text}}, nil
		})
	})
	for _, n := range nodes {
		select {
		case <-kbs[n.name].shared.Ready():
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the bucket's state was not applied", n.name)
		}
	}
	waitFor(t, 30*time.Second, "n3's own document on n1 and n2", func() bool {
		return kbs["n1"].finds(t, "walrus desk", "opens at seven") && kbs["n2"].finds(t, "walrus desk", "opens at seven")
	})
	waitFor(t, 10*time.Second, "three gateway sessions", func() bool { return fd.Connected() == 3 })

	general := fd.TextChannel(fd.Guild, "general")
	mia := fd.NewUser("mia")
	ask := func(t *testing.T, round string) map[string][]string {
		t.Helper()
		const questions = 24
		var ids []string
		for i := range questions {
			ids = append(ids, fd.Post(general, mia, fmt.Sprintf("what is the quokka discount (%s %d)?", round, i), true).ID)
		}
		byNode := map[string][]string{}
		waitFor(t, 30*time.Second, "every question answered", func() bool {
			for _, id := range ids {
				if len(fd.BotMessages(id)) == 0 {
					return false
				}
			}
			return true
		})
		for i, id := range ids {
			got := fd.BotMessages(id)
			if len(got) != 1 {
				t.Errorf("question %d answered %d times", i, len(got))
				continue
			}
			node, text, _ := strings.Cut(got[0].Content, ": ")
			byNode[node] = append(byNode[node], text)
		}
		for _, n := range []string{"n2", "n3"} {
			if len(byNode[n]) == 0 {
				t.Errorf("%s answered none of the %d questions (answers by node: %v)", n, questions, byNode)
			}
		}
		return byNode
	}

	t.Run("added on n1, answered on n2 and n3", func(t *testing.T) {
		added := time.Now()
		if _, err := kbs["n1"].base.Add(context.Background(), "quokka", "Quokka discount", "",
			"# Quokka discount\n\nThe quokka discount is twelve percent on Tuesdays."); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the document on n2 and n3", func() bool {
			return kbs["n2"].finds(t, "quokka discount", "twelve percent") && kbs["n3"].finds(t, "quokka discount", "twelve percent")
		})
		t.Logf("added on n1, found in the indexes of n2 and n3 %s later", time.Since(added).Round(time.Millisecond))
		for node, answers := range ask(t, "added") {
			for _, a := range answers {
				if !strings.Contains(a, "twelve percent") {
					t.Errorf("%s answered %q, not from the added document", node, a)
				}
			}
		}
	})
	t.Run("removed on n2, no longer answered on n1 and n3", func(t *testing.T) {
		removed := time.Now()
		if err := kbs["n2"].base.Remove(context.Background(), "added/quokka.md"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the document gone from n1 and n3", func() bool {
			return !kbs["n1"].finds(t, "quokka discount", "twelve percent") && !kbs["n3"].finds(t, "quokka discount", "twelve percent")
		})
		t.Logf("removed on n2, gone from the indexes of n1 and n3 %s later", time.Since(removed).Round(time.Millisecond))
		for node, answers := range ask(t, "removed") {
			for _, a := range answers {
				if strings.Contains(a, "twelve percent") {
					t.Errorf("%s answered %q from the removed document", node, a)
				}
			}
		}
		for name, k := range kbs {
			docs, err := k.local.Docs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := sources(docs); got != "added/opening-hours.md" {
				t.Errorf("%s's store holds %s, want only added/opening-hours.md", name, got)
			}
		}
	})
}

func putDoc(t *testing.T, s kb.Store, source, text string) {
	t.Helper()
	chunks, err := knowledge.Split(source, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	doc := kb.Doc{Source: source, Origin: kb.OriginAdded, Title: chunks[0].Title, Size: int64(len(text)), Chunks: len(chunks), Synced: time.Now()}
	if err := s.PutDoc(context.Background(), doc, chunks); err != nil {
		t.Fatal(err)
	}
}

func sources(docs []kb.Doc) string {
	var out []string
	for _, d := range docs {
		out = append(out, d.Source)
	}
	return strings.Join(out, ", ")
}
