package solutions_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/handlers/solutions"
	"github.com/einsatz/einsatz/storage"
)

func TestSolvedTagChoice(t *testing.T) {
	forum := []bot.ForumTag{{ID: "1", Name: "Bug"}, {ID: "2", Name: "✅ Gelöst"}, {ID: "3", Name: "solved"}}
	for _, tc := range []struct {
		name  string
		tags  []bot.ForumTag
		names []string
		want  string // "" = none
	}{
		{"the first name wins", forum, []string{"Solved", "Gelöst"}, "3"},
		{"emoji, case and spaces do not matter", forum, []string{"gelöst"}, "2"},
		{"german forum", forum[:2], solutions.DefaultForumTags, "2"},
		{"no such tag", forum[:1], solutions.DefaultForumTags, ""},
		{"a name of only emoji matches nothing", []bot.ForumTag{{ID: "9", Name: "✅"}}, []string{"✅"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := solutions.SolvedTag(tc.tags, tc.names)
			if (tc.want == "") == ok || got.ID != tc.want {
				t.Errorf("SolvedTag = %+v, %v; want %q", got, ok, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name    string
		applied []string
		want    []string
		changed bool
	}{
		{"added after the member's", []string{"a", "b"}, []string{"a", "b", "S"}, true},
		{"on a post without tags", nil, []string{"S"}, true},
		{"already there", []string{"S", "a"}, []string{"S", "a"}, false},
		{"a full post: the last other tag makes room", []string{"a", "b", "c", "d", "e"}, []string{"a", "b", "c", "d", "S"}, true},
		{"the open tag goes", []string{"a", "O"}, []string{"a", "S"}, true},
		{"a full post loses its open tag first", []string{"a", "O", "b", "c", "d"}, []string{"a", "b", "c", "d", "S"}, true},
		{"solved and open at once", []string{"S", "O"}, []string{"S"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := solutions.SolvedTags(tc.applied, "S", map[string]bool{"O": true})
			if !slices.Equal(got, tc.want) || changed != tc.changed {
				t.Errorf("SolvedTags(%v) = %v, %v; want %v, %v", tc.applied, got, changed, tc.want, tc.changed)
			}
		})
	}
}

// A Discord forum: the asker's "Mark solution" on the staff reply makes the
// candidate, answers only the asker (ephemeral), tags the post "✅ Solved"
// beside the member's own tag and archives it (solved.archive). A
// bystander's "Mark solution" is refused, only to them, and changes
// nothing. Without
// Manage Threads the ✅ still makes a candidate and the post keeps its
// tags. The message command is registered with its German name.
func TestSolvedForumPostOnDiscord(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	anna := fd.NewUser("anna", supportRole)
	mia, bob := fd.NewUser("mia"), fd.NewUser("bob")
	forum := fd.TaggedForum(fd.Guild, "help", "Bug", "Question", "✅ Solved")
	info, _ := fd.ChannelInfo(forum)
	bug, solvedTag := info.Tags[0].ID, info.Tags[2].ID

	r := newRigWith(t, nil, func(o *solutions.Options, core *bot.Bot, _ *storage.Store) {
		o.Forums, o.Archive = core, true
	})
	discordRig(t, fd, r, supportRole)

	var mark *discordtest.Command
	for _, c := range fd.Commands(fd.Guild) {
		if c.Type == 3 && c.Name == discord.SolutionCommandName {
			mark = &c
		}
	}
	if mark == nil || mark.NameLocalizations["de"] != "Als Lösung markieren" || mark.Description != "" {
		t.Fatalf("registered commands %+v: want the message command Mark solution with its German name", fd.Commands(fd.Guild))
	}

	post, _ := fd.ForumPost(forum, mia, "Sync fails", question)
	fd.TagPost(post, bug)
	reply := fd.Post(post, anna, solution, false)
	// bob is neither the asker nor staff.
	ia := fd.MessageCommand(post, bob, discord.SolutionCommandName, reply.ID)
	waitUntil(t, "the refusal", func() bool { return len(fd.InteractionResponses(ia)) > 0 })
	time.Sleep(100 * time.Millisecond)
	if resp := fd.InteractionResponses(ia); !ephemerallySaid(resp, "Only the person who asked") {
		t.Errorf("bystander got %+v, want an ephemeral refusal", resp)
	}
	if len(r.pending(t)) != 0 {
		t.Fatalf("a bystander's Mark solution made a candidate: %+v", r.pending(t))
	}

	ia = fd.MessageCommand(post, mia, discord.SolutionCommandName, reply.ID)
	waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
	c := r.pending(t)[0]
	if c.By != "asker" || !strings.Contains(c.Answer, "Settings → Tokens") || c.Thread.ThreadID != post {
		t.Errorf("candidate = %+v", c)
	}
	waitUntil(t, "the thanks", func() bool { return ephemerallySaid(fd.InteractionResponses(ia), "marked solved") })
	waitUntil(t, "the tag", func() bool {
		ch, _ := fd.ChannelInfo(post)
		return ch.Archived
	})
	if ch, _ := fd.ChannelInfo(post); !slices.Equal(ch.AppliedTags, []string{bug, solvedTag}) {
		t.Errorf("post tags = %v, want the member's Bug and Solved %v", ch.AppliedTags, []string{bug, solvedTag})
	}
	for _, m := range fd.Messages(post) {
		if m.Author.Bot && m.Flags&(1<<6) == 0 && strings.Contains(m.Content, "marked solved") {
			t.Errorf("the thanks went to the thread for all: %q", m.Content)
		}
	}

	// Without Manage Threads: the candidate all the same, the post as it was.
	fd.SetThreadsDenied(true)
	post2, _ := fd.ForumPost(forum, bob, "Backup question", "How do I back up the database of einsatz?")
	fd.TagPost(post2, info.Tags[1].ID)
	reply2 := fd.Post(post2, anna, "Run einsatz backup; it writes one file you can copy away.", false)
	fd.React(post2, reply2.ID, bob, "✅")
	waitUntil(t, "the second candidate", func() bool { return len(r.pending(t)) == 2 })
	time.Sleep(200 * time.Millisecond)
	if ch, _ := fd.ChannelInfo(post2); ch.Archived || !slices.Equal(ch.AppliedTags, []string{info.Tags[1].ID}) {
		t.Errorf("post without Manage Threads: tags %v archived %v, want unchanged", ch.AppliedTags, ch.Archived)
	}

	// "Mark solution" on the bot's own answer: solved (tagged), thanked,
	// and no candidate (the answer came from the knowledge base).
	fd.SetThreadsDenied(false)
	post3, _ := fd.ForumPost(forum, mia, "Languages", "Which languages does the bot answer in?")
	fd.PostWith(discordtest.PostOptions{ChannelID: post3, Author: mia, Content: "which languages do you speak?", MentionsBot: true})
	waitUntil(t, "the bot's answer in the third post", func() bool { return len(fd.BotMessages(post3)) > 0 })
	ia = fd.MessageCommand(post3, mia, discord.SolutionCommandName, fd.BotMessages(post3)[0].ID)
	waitUntil(t, "the third post archived", func() bool { ch, _ := fd.ChannelInfo(post3); return ch.Archived })
	waitUntil(t, "the thanks for the bot's answer", func() bool { return ephemerallySaid(fd.InteractionResponses(ia), "marked solved") })
	if ch, _ := fd.ChannelInfo(post3); !slices.Equal(ch.AppliedTags, []string{solvedTag}) {
		t.Errorf("third post tags = %v, want Solved", ch.AppliedTags)
	}
	if n := len(r.pending(t)); n != 2 {
		t.Errorf("%d candidates after marking the bot's answer, want still 2", n)
	}

	// A message in the archived post opens it again; marking it solved
	// once more tags nothing twice.
	fd.Post(post, mia, "It works now, thanks!", false)
	waitUntil(t, "the post to reopen", func() bool { ch, _ := fd.ChannelInfo(post); return !ch.Archived })
	fd.React(post, reply.ID, mia, "✅")
	waitUntil(t, "the post archived again", func() bool { ch, _ := fd.ChannelInfo(post); return ch.Archived })
	if ch, _ := fd.ChannelInfo(post); !slices.Equal(ch.AppliedTags, []string{bug, solvedTag}) {
		t.Errorf("post tags after a second mark = %v", ch.AppliedTags)
	}
}

// In a text channel's thread (no forum) nothing is tagged or archived. The
// answers to "Mark solution" (no words of its own) are in the thread's
// language: German here, for the bystander and for the asker.
func TestSolvedTextThreadIsNotTagged(t *testing.T) {
	fd := discordtest.New(t, discordtest.Options{})
	supportRole := fd.AddRole(fd.Guild, "support")
	anna, mia := fd.NewUser("anna", supportRole), fd.NewUser("mia")
	general := fd.TextChannel(fd.Guild, "general")
	r := newRigWith(t, nil, func(o *solutions.Options, core *bot.Bot, _ *storage.Store) {
		o.Forums, o.Archive = core, true
	})
	discordRig(t, fd, r, supportRole)
	bob := fd.NewUser("bob")
	q := fd.Post(general, mia, "Wie kann ich den nächtlichen Sync-Fehler E4711 beheben? Er kommt jede Nacht.", true)
	waitUntil(t, "the bot's first reply", func() bool { return len(fd.BotMessages(q.ID)) == 1 })
	reply := fd.Post(q.ID, anna, "E4711 heißt, dass das Token abgelaufen ist: lege unter Einstellungen ein neues an.", false)
	ia := fd.MessageCommand(q.ID, bob, discord.SolutionCommandName, reply.ID)
	waitUntil(t, "the German refusal", func() bool { return ephemerallySaid(fd.InteractionResponses(ia), "Nur wer gefragt hat") })
	ia = fd.MessageCommand(q.ID, mia, discord.SolutionCommandName, reply.ID)
	waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
	waitUntil(t, "the German thanks", func() bool { return ephemerallySaid(fd.InteractionResponses(ia), "als gelöst markiert") })
	time.Sleep(100 * time.Millisecond)
	if ch, _ := fd.ChannelInfo(q.ID); ch.Archived || len(ch.AppliedTags) != 0 {
		t.Errorf("a text channel's thread was changed: %+v", ch)
	}
}

func ephemerallySaid(resp []discordtest.InteractionResponse, part string) bool {
	for _, r := range resp {
		if r.Flags&(1<<6) != 0 && strings.Contains(r.Content, part) && r.Status < 300 {
			return true
		}
	}
	return false
}

// Slack: the message shortcut "Mark solution" on a reply in a thread makes
// the candidate of that thread with that reply, and the thanks is shown to
// its user only, in the thread (chat.postEphemeral with thread_ts); a
// bystander's makes none and is refused privately; the thread's other
// answers stay public; the thread's parent gets the bot's ✅.
func TestMarkSolutionShortcutOnSlack(t *testing.T) {
	const help, mia, anna, bob = "C0HELP", "U0MIA", "U0ANNA", "U0BOB"
	fake := slacktest.New(slacktest.Options{AckTimeout: 3 * time.Second, PingInterval: 100 * time.Millisecond})
	t.Cleanup(fake.Close)
	fake.AddChannel(help, "help", slacktest.Public)
	fake.AddUser(mia, "mia")
	fake.AddUser(anna, "anna")
	fake.AddUser(bob, "bob")
	r := newRigWith(t, nil, func(o *solutions.Options, core *bot.Bot, _ *storage.Store) { o.Forums, o.Reactor = core, core })
	a, err := slack.New(slack.Options{BotToken: fake.BotToken(), AppToken: fake.AppToken(), APIURL: fake.APIURL(),
		StaffUsers: []string{anna}, Commands: r.core.Commands(), Logger: discard, PingTimeout: time.Second, NameWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runSlack(t, r, fake, a)
	ts := fake.Post(help, mia, "@einsatz how do I rotate the API key?", "")
	waitUntil(t, "the bot's answer", func() bool { return len(threadPosts(fake, help, ts)) == 1 })
	replyTS := fake.Post(help, bob, "Run einsatz key rotate, then restart the service.", ts)
	fake.Post(help, anna, "Or ask me.", ts)

	if err := fake.Shortcut(help, bob, slack.ShortcutMarkSolution, replyTS); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the refusal", func() bool { return saidOnlyTo(fake, help, ts, bob, "Only the person who asked") })
	if len(r.pending(t)) != 0 {
		t.Fatalf("a bystander's shortcut made a candidate: %+v", r.pending(t))
	}
	if err := fake.Shortcut(help, anna, slack.ShortcutMarkSolution, replyTS); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the candidate", func() bool { return len(r.pending(t)) == 1 })
	c := r.pending(t)[0]
	if c.By != "staff" || c.Answer != "Run einsatz key rotate, then restart the service." || c.Thread.ThreadID != ts {
		t.Errorf("candidate = %+v, want bob's reply in the thread of %s", c, ts)
	}
	waitUntil(t, "the thanks", func() bool { return saidOnlyTo(fake, help, ts, anna, "marked solved") })
	// The thread's parent shows it solved: the bot's ✅, once, also when
	// the thread is marked again (Slack answers already_reacted).
	parentTicks := func() (ok, failed int) {
		for _, c := range fake.Calls("reactions.add") {
			if c.Params["channel"] == help && c.Params["timestamp"] == ts && c.Params["name"] == "white_check_mark" {
				if c.Error == "" {
					ok++
				} else {
					failed++
				}
			}
		}
		return ok, failed
	}
	waitUntil(t, "the ✅ on the parent", func() bool { ok, _ := parentTicks(); return ok == 1 })
	fake.React(help, mia, replyTS, "white_check_mark", false)
	waitUntil(t, "the second mark", func() bool { _, failed := parentTicks(); return failed == 1 })
	if n, _ := parentTicks(); n != 1 {
		t.Errorf("the bot ticked the parent %d times", n)
	}
	// The thread's other replies stay public: mia's follow-up is answered
	// for everyone.
	public := func() int {
		n := 0
		for _, m := range threadPosts(fake, help, ts) {
			if m.EphemeralFor == "" {
				n++
			}
		}
		return n
	}
	before := public()
	fake.Post(help, mia, "@einsatz and how often should I rotate it?", ts)
	waitUntil(t, "a public answer in the thread", func() bool { return public() > before })
	for _, m := range threadPosts(fake, help, ts) {
		if m.EphemeralFor == "" && (strings.Contains(m.Text, "marked solved") || strings.Contains(m.Text, "Only the person")) {
			t.Errorf("a shortcut's reply went to everyone: %q", m.Text)
		}
	}
}

// saidOnlyTo reports whether the bot said part in a thread, shown to user
// only (chat.postEphemeral with thread_ts).
func saidOnlyTo(fake *slacktest.Server, channel, ts, user, part string) bool {
	for _, m := range threadPosts(fake, channel, ts) {
		if m.EphemeralFor == user && strings.Contains(m.Text, part) {
			return true
		}
	}
	return false
}

func runSlack(t *testing.T, r *rig, fake *slacktest.Server, a *slack.Adapter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.core.Run(ctx, a) }()
	t.Cleanup(func() { cancel(); <-done })
	if !fake.WaitConnected(1, 10*time.Second) {
		t.Fatal("the adapter did not connect")
	}
}

func threadPosts(fake *slacktest.Server, channel, ts string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range fake.Posted() {
		if m.Channel == channel && m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}
