package cluster_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/slack"
	"github.com/einsatz/einsatz/adapters/slack/slacktest"
	"github.com/einsatz/einsatz/bot"
)

// Slack's private commands in cluster mode: the load balancer hands each
// slash command to one node, which knows the command is private, while
// the node holding the channel's partition posts the replies. The answer
// handle the event carries keeps every reply to a private command (and to
// a click on its ephemeral answer) ephemeral to its caller, whichever node
// got it; an ordinary command stays public.
func TestSlackPrivateCommandsStayPrivateAcrossNodes(t *testing.T) {
	fs := slacktest.New(slacktest.Options{Mode: slacktest.ModeHTTP})
	t.Cleanup(fs.Close)
	lb := &balancer{}
	commands := []bot.CommandSpec{
		{Name: "ask", Description: "ask", ArgName: "question", ArgHelp: "the question"},
		{Name: "notify", Description: "private", ArgName: "on", ArgHelp: "on or off", Private: true},
	}
	startClusterHandler(t, 3, 8, func(string) []bot.Adapter {
		sa, err := slack.New(slack.Options{Mode: slack.ModeHTTP, BotToken: fs.BotToken(), SigningSecret: fs.SigningSecret(),
			APIURL: fs.APIURL(), Logger: quiet, Commands: commands})
		if err != nil {
			t.Fatal(err)
		}
		lb.add(sa.HTTPHandler())
		return []bot.Adapter{sa}
	}, func(*testNode) bot.Handler {
		return bot.HandlerFunc(func(_ context.Context, ev *bot.Event) ([]bot.Reply, error) {
			if ev.Kind == bot.KindInteraction {
				return []bot.Reply{{Text: "clicked " + ev.Action}}, nil
			}
			return []bot.Reply{{Text: "answer: " + ev.Command + " " + ev.Args,
				Buttons: []bot.Button{{Label: "Helpful", Action: "feedback", Value: "up"}}}}, nil
		})
	})
	front := httptest.NewServer(lb)
	t.Cleanup(front.Close)
	fs.SetEventsURL(front.URL + slack.EventsPath)
	const alice, general = "U100", "C100"
	fs.AddUser(alice, "alice")
	fs.AddChannel(general, "general", slacktest.Public)

	// Six private commands and three public ones, in turn over the three
	// nodes: at least two thirds reach a node that does not post them.
	const private, public = 6, 3
	for i := range private {
		fs.SlashCommand(general, alice, "/einsatz", fmt.Sprintf("notify on %d", i))
		if i < public {
			fs.SlashCommand(general, alice, "/einsatz", fmt.Sprintf("ask question %d", i))
		}
	}
	posted := fs.WaitPosted(private+public, 20*time.Second)
	var clicks int
	for _, m := range posted {
		isPrivate := strings.Contains(m.Text, "answer: notify")
		if isPrivate != (m.EphemeralFor == alice) {
			t.Errorf("%q posted for %q: a private command's answer must be ephemeral to alice, a public one public", m.Text, m.EphemeralFor)
		}
		if isPrivate && m.EphemeralFor == alice && clicks < 3 {
			if err := fs.Click(general, alice, m.TS, "Helpful"); err != nil {
				t.Fatal(err)
			}
			clicks++
		}
	}
	posted = fs.WaitPosted(private+public+clicks, 20*time.Second)
	time.Sleep(300 * time.Millisecond) // a second answer would show now
	posted = fs.Posted()
	counts := map[string]int{}
	for _, m := range posted {
		counts[m.Text]++
		if strings.HasPrefix(m.Text, "clicked") && m.EphemeralFor != alice {
			t.Errorf("the answer to a click on an ephemeral message was posted for %q, want alice only", m.EphemeralFor)
		}
	}
	if counts["clicked feedback"] != clicks || len(posted) != private+public+clicks {
		t.Errorf("posted %v, want each of %d commands and %d clicks answered once", counts, private+public, clicks)
	}
	t.Logf("%d private and %d public commands and %d clicks over the load balancer (deliveries per node %v)", private, public, clicks, lb.counts())
}
