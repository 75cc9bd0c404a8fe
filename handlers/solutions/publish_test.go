package solutions_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// discordRig runs the rig's core over the Discord adapter on the fake.
func discordRig(t *testing.T, fd *discordtest.Server, r *rig, staffRole string) {
	t.Helper()
	da, err := discord.New(discord.Options{Token: fd.Token, APIURL: fd.URL, StaffRoles: []string{staffRole},
		Commands: r.core.Commands(), GuildIDs: []string{fd.Guild}, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.core.Run(ctx, da) }()
	t.Cleanup(func() { cancel(); <-done })
	if !fd.WaitConnected(10 * time.Second) {
		t.Fatal("the adapter did not connect")
	}
}

func published(t *testing.T, svc *solutions.Service) []solved.Answer {
	t.Helper()
	list, err := svc.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// botSaid returns the bot's message in a thread that contains part.
func botSaid(fd *discordtest.Server, thread, part string) (discordtest.Message, bool) {
	for _, m := range fd.BotMessages(thread) {
		if strings.Contains(m.Content, part) {
			return m, true
		}
	}
	return discordtest.Message{}, false
}

// Consent on Discord: approval makes the bot ask the asker in the thread;
// the answer is public only after the asker's ✅ on that question (a
// bystander's does not count), removing the ✅ takes it down, and it
// carries no name, address or link. In German, "ja" agrees and
// "unpublish" withdraws, each answered in German.
func TestPublishConsentOnDiscord(t *testing.T) {
	ctx := context.Background()
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	anna := fd.NewUser("anna", supportRole)
	mia := fd.NewUser("mia")
	bob := fd.NewUser("bob")
	general := fd.TextChannel(fd.Guild, "general")
	r := newRigWith(t, nil, func(o *solutions.Options, core *bot.Bot, _ *storage.Store) { o.Publish, o.Poster = true, core })
	discordRig(t, fd, r, supportRole)

	q := fd.Post(general, mia, question, true)
	waitUntil(t, "the bot's first reply", func() bool { return len(fd.BotMessages(q.ID)) == 1 })
	reply := fd.Post(q.ID, anna, solution+" Thanks <@"+mia.ID+">, Mia, and @bob too.", false)
	fd.React(q.ID, reply.ID, mia, "✅")
	waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
	c := r.pending(t)[0]
	if _, err := r.svc.Approve(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	ask, ok := botSaid(fd, q.ID, "May we also publish this Q&A")
	if !ok {
		t.Fatalf("no consent question in the thread: %+v", fd.BotMessages(q.ID))
	}
	if got := published(t, r.svc); len(got) != 0 {
		t.Fatalf("published before consent: %+v", got)
	}
	fd.React(q.ID, ask.ID, bob, "✅")
	fd.React(q.ID, ask.ID, mia, "✅")
	waitUntil(t, "the answer published", func() bool { return len(published(t, r.svc)) == 1 })
	a := published(t, r.svc)[0]
	if c, _ := storage.NewSolved(r.store).Candidate(ctx, c.ID); c.Consent != solved.ConsentGiven {
		t.Errorf("consent = %q, want given", c.Consent)
	}
	if !strings.HasPrefix(a.Slug, "my-sync-job-fails-with-error-e4711-every-") || !strings.HasSuffix(a.Slug, "-"+c.ID) || a.Lang != "en" {
		t.Errorf("published = %+v", a)
	}
	for _, private := range []string{"mia", "Mia", "bob", mia.ID, "example.org", "1234567", "discord.com"} {
		if strings.Contains(a.Question+a.Answer, private) {
			t.Errorf("the public answer shows %q: %+v", private, a)
		}
	}
	if !strings.Contains(a.Answer, "Settings → Tokens") {
		t.Errorf("public answer = %q", a.Answer)
	}
	fd.Unreact(q.ID, ask.ID, mia, "✅")
	waitUntil(t, "the answer unpublished", func() bool { return len(published(t, r.svc)) == 0 })

	// German: "ja" agrees, "unpublish" withdraws.
	q2 := fd.Post(general, mia, "Wie ändere ich die Größe der Datenbank?", true)
	waitUntil(t, "the bot's reply", func() bool { return len(fd.BotMessages(q2.ID)) == 1 })
	fd.Post(q2.ID, anna, "Setze storage.max_size in der config.yaml und starte neu.", false)
	id := fd.SlashCommand(q2.ID, mia, "solved", "")
	waitUntil(t, "the /solved confirmation", func() bool { return len(fd.InteractionResponses(id)) > 0 })
	waitUntil(t, "the German candidate", func() bool { return len(r.pending(t)) == 1 })
	c2 := r.pending(t)[0]
	if c2.Lang != "de" {
		t.Fatalf("candidate language = %q, want de", c2.Lang)
	}
	if _, err := r.svc.Approve(ctx, c2.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := botSaid(fd, q2.ID, "Dürfen wir diese Frage und Antwort"); !ok {
		t.Fatalf("no German consent question: %+v", fd.BotMessages(q2.ID))
	}
	fd.Post(q2.ID, bob, "ja", false) // not the asker
	fd.Post(q2.ID, mia, "Ja!", false)
	waitUntil(t, "the German thanks", func() bool { _, ok := botSaid(fd, q2.ID, "Danke! Frage und Antwort erscheinen"); return ok })
	got := published(t, r.svc)
	if len(got) != 1 || got[0].Lang != "de" || !strings.HasPrefix(got[0].Slug, "wie-aendere-ich-die-groesse-der-datenbank-") {
		t.Fatalf("published = %+v", got)
	}
	fd.Post(q2.ID, mia, "unpublish", false)
	waitUntil(t, "the German withdrawal", func() bool { _, ok := botSaid(fd, q2.ID, "Verstanden"); return ok })
	if got := published(t, r.svc); len(got) != 0 {
		t.Fatalf("published after withdrawal: %+v", got)
	}
}

// Rewritten by staff: published without asking; "no" keeps an answer
// private and a later ✅ still agrees; deleting the solving message does
// not take a rewritten answer down, but it does take down one published
// on consent. With publishing off nothing is published.
func TestPublishRewrittenAndDeleted(t *testing.T) {
	ctx := context.Background()
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	anna := fd.NewUser("anna", supportRole)
	mia := fd.NewUser("mia")
	general := fd.TextChannel(fd.Guild, "general")
	r := newRigWith(t, nil, func(o *solutions.Options, core *bot.Bot, _ *storage.Store) { o.Publish, o.Poster = true, core })
	discordRig(t, fd, r, supportRole)

	mark := func(text, answer string) (string, discordtest.Message, solved.Candidate) {
		q := fd.Post(general, mia, text, true)
		waitUntil(t, "the bot's reply", func() bool { return len(fd.BotMessages(q.ID)) == 1 })
		a := fd.Post(q.ID, anna, answer, false)
		fd.React(q.ID, a.ID, anna, "✅")
		waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
		return q.ID, a, r.pending(t)[0]
	}
	th1, a1, c1 := mark("How do I rotate the API key?", "Run einsatz key rotate.")
	if _, err := r.svc.SetRewritten(ctx, c1.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Approve(ctx, c1.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := botSaid(fd, th1, "May we also publish"); ok {
		t.Errorf("asked for consent on a rewritten answer")
	}
	if got := published(t, r.svc); len(got) != 1 || got[0].ID != c1.ID {
		t.Fatalf("rewritten answer not published: %+v", got)
	}
	fd.DeleteMessage(th1, a1.ID)

	th2, a2, c2 := mark("Where are backups written?", "Into the file you name after einsatz backup.")
	if _, err := r.svc.Approve(ctx, c2.ID); err != nil {
		t.Fatal(err)
	}
	var ask discordtest.Message
	waitUntil(t, "the consent question", func() bool {
		var ok bool
		ask, ok = botSaid(fd, th2, "May we also publish")
		return ok
	})
	// "no" keeps it private; a ✅ afterwards still agrees.
	fd.Post(th2, mia, "No thanks", false)
	waitUntil(t, "the reply to no", func() bool { _, ok := botSaid(fd, th2, "Understood: this Q&A stays off"); return ok })
	if got := published(t, r.svc); len(got) != 1 {
		t.Fatalf("after no: %+v", got)
	}
	fd.React(th2, ask.ID, mia, "✅")
	waitUntil(t, "two published", func() bool { return len(published(t, r.svc)) == 2 })
	fd.DeleteMessage(th2, a2.ID)
	waitUntil(t, "the deleted one unpublished", func() bool {
		got := published(t, r.svc)
		return len(got) == 1 && got[0].ID == c1.ID
	})

	// One answer's own page reads it alone, and agrees with the list.
	if one, ok, err := r.svc.PublishedAnswer(ctx, c1.ID); err != nil || !ok || one != published(t, r.svc)[0] {
		t.Errorf("PublishedAnswer(%s) = %+v, %v, %v", c1.ID, one, ok, err)
	}
	if _, ok, err := r.svc.PublishedAnswer(ctx, c2.ID); err != nil || ok {
		t.Errorf("PublishedAnswer of the unpublished %s = %v, %v", c2.ID, ok, err)
	}
	if _, ok, err := r.svc.PublishedAnswer(ctx, "no-such-id"); err != nil || ok {
		t.Errorf("PublishedAnswer of a missing id = %v, %v", ok, err)
	}
	off := solutions.New(solutions.Options{Store: storage.NewSolved(r.store), AddKnowledge: support.AddTo(r.kb)})
	if got, err := off.Published(ctx); err != nil || len(got) != 0 {
		t.Errorf("publishing off: %+v, %v", got, err)
	}
	if _, ok, err := off.PublishedAnswer(ctx, c1.ID); err != nil || ok {
		t.Errorf("publishing off: PublishedAnswer = %v, %v", ok, err)
	}
	// Approved with publishing off (einsatz kb approve offline): nobody
	// was asked; staff ask from the dashboard, once.
	th3, _, c3 := mark("How do I turn on debug logs?", "Set log.level to debug.")
	if _, err := off.Approve(ctx, c3.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := botSaid(fd, th3, "May we also publish"); ok {
		t.Fatalf("asked with publishing off")
	}
	if c, err := r.svc.AskConsent(ctx, c3.ID); err != nil || c.Consent != solved.ConsentAsked {
		t.Fatalf("AskConsent = %+v, %v", c, err)
	}
	if _, ok := botSaid(fd, th3, "May we also publish"); !ok {
		t.Fatalf("no consent question after AskConsent: %+v", fd.BotMessages(th3))
	}
	if _, err := r.svc.AskConsent(ctx, c3.ID); err == nil {
		t.Errorf("asked twice")
	}
}

func TestSlugAndPublicText(t *testing.T) {
	for _, tc := range []struct{ q, id, want string }{
		{"How do I fix error E4711?", "ab12", "how-do-i-fix-error-e4711-ab12"},
		{"Wie ändere ich die Größe?", "cd34", "wie-aendere-ich-die-groesse-cd34"},
		{"one two three four five six seven eight nine ten", "x", "one-two-three-four-five-six-seven-eight-x"},
		{"???", "ef56", "ef56"},
	} {
		if got := solutions.Slug(tc.q, tc.id); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.q, got, tc.want)
		}
		if got := solutions.IDFromSlug(solutions.Slug(tc.q, tc.id)); got != tc.id {
			t.Errorf("IDFromSlug = %q, want %q", got, tc.id)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"thanks <@123456789> and <@!42>", "thanks @… and @…"},
		{"ping <@U0MIA|mia> in <#C0HELP>", "ping @… in @…"},
		{"@anna said run it, see https://medium.com/@alice", "@… said run it, see https://medium.com/@alice"},
		{"write to mia@example.org", "write to"},
	} {
		got := solutions.PublicText(tc.in)
		if tc.want == "write to" {
			if strings.Contains(got, "mia@example.org") {
				t.Errorf("PublicText(%q) = %q keeps the address", tc.in, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("PublicText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWithoutNames(t *testing.T) {
	names := []string{"mia", "Anna Schmidt", "bo"}
	for _, tc := range []struct{ in, want string }{
		{"Thanks Mia, that helped", "Thanks …, that helped"},
		{"@mia try this", "… try this"},
		{"ask Anna Schmidt or anna schmidt", "ask … or …"},
		{"Mia mia", "… …"},
		{"media and Miami stay", "media and Miami stay"},
		{"bo is too short to remove, so is a bowl", "bo is too short to remove, so is a bowl"},
	} {
		if got := solutions.WithoutNames(tc.in, names); got != tc.want {
			t.Errorf("withoutNames(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
