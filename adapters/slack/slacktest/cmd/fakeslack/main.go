// Command fakeslack runs the fake Slack of package slacktest on its own, so
// a person can watch `einsatz run` answer without a Slack workspace. It
// prints the settings to give Einsatz, then reads commands from stdin:
//
//	post C123 hello @bot        a message in #general mentioning the bot
//	reply C123 TS more text     a reply in the thread of TS
//	dm hello                    a direct message to the bot
//	as U456                     speak as another user (bob)
//	react C123 TS thumbsup      add a reaction
//	cmd C123 ask how do I…      run /einsatz ask how do I…
//	shortcut C123 TS            "Send to research inbox" on a message
//	click C123 TS Helpful       click a button on one of the bot's messages
//	disconnect                  Socket Mode: ask the bot to reconnect
//	posts | acks | help | quit
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/einsatz/einsatz/adapters/slack/slacktest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address of the fake Slack")
	mode := flag.String("mode", "socket", "socket or http: how events reach the bot")
	eventsURL := flag.String("events-url", "http://127.0.0.1:8080/slack/events", "http mode: where the bot serves Slack's requests")
	verbose := flag.Bool("v", false, "log what the fake does")
	flag.Parse()

	opts := slacktest.Options{Addr: *addr, Mode: *mode, EventsURL: *eventsURL}
	if *verbose {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "fakeslack: "+format+"\n", args...) }
	}
	opts.OnPost = func(m slacktest.Message) {
		where := m.Channel
		if m.ThreadTS != "" {
			where += " thread " + m.ThreadTS
		}
		verb := "posted"
		if m.Edited {
			verb = "edited"
		}
		fmt.Printf("\n[bot %s %s in %s]\n%s\n", verb, m.TS, where, indent(m.Text))
		if labels := slacktest.ButtonLabels(m); len(labels) > 0 {
			fmt.Printf("  buttons: %s\n", strings.Join(labels, " | "))
		}
		fmt.Print("> ")
	}
	s := slacktest.New(opts)
	defer s.Close()
	s.AddChannel("C123", "general", slacktest.Public)
	s.AddChannel("C456", "help", slacktest.Public)
	s.AddChannel("D123", "", slacktest.IM)
	s.AddUser("U123", "alice")
	s.AddUser("U456", "bob")
	s.AddUserGroup("S123", "U456")

	fmt.Printf(`fakeslack (%s mode) listening on %s

Run Einsatz against it (in another terminal):

  export SLACK_BOT_TOKEN=%s
  export SLACK_APP_TOKEN=%s
  export SLACK_SIGNING_SECRET=%s

and in config.yaml:

  slack:
    mode: %s
    api_url: %s
`, *mode, s.URL(), s.BotToken(), s.AppToken(), s.SigningSecret(), *mode, s.APIURL())
	if *mode == slacktest.ModeHTTP {
		fmt.Printf("\nDeliveries go to %s (einsatz serves it on web.addr).\n", *eventsURL)
	}
	fmt.Print(`
Channels: C123 #general, C456 #help, D123 (DM with the bot). You are U123 (alice); U456 is bob.
Type "help" for commands.
> `)

	user := "U123"
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			fmt.Print("> ")
			continue
		}
		rest := func(n int) string {
			if len(f) <= n {
				return ""
			}
			return strings.Join(f[n:], " ")
		}
		mention := func(t string) string { return strings.ReplaceAll(t, "@bot", "<@"+s.BotUserID()+">") }
		var err error
		switch {
		case f[0] == "post" && len(f) >= 3:
			fmt.Printf("posted %s\n", s.Post(f[1], user, mention(rest(2)), ""))
		case f[0] == "reply" && len(f) >= 4:
			fmt.Printf("posted %s\n", s.Post(f[1], user, mention(rest(3)), f[2]))
		case f[0] == "dm" && len(f) >= 2:
			fmt.Printf("posted %s\n", s.Post("D123", user, mention(rest(1)), ""))
		case f[0] == "as" && len(f) == 2:
			user = f[1]
		case f[0] == "react" && len(f) == 4:
			s.React(f[1], user, f[2], strings.Trim(f[3], ":"), false)
		case f[0] == "cmd" && len(f) >= 2:
			s.SlashCommand(f[1], user, "/einsatz", rest(2))
		case f[0] == "shortcut" && len(f) == 3:
			err = s.Shortcut(f[1], user, "send_to_research_inbox", f[2])
		case f[0] == "click" && len(f) >= 4:
			err = s.Click(f[1], user, f[2], rest(3))
		case f[0] == "disconnect":
			s.Disconnect(time.Second)
		case f[0] == "posts":
			for _, m := range s.Posted() {
				fmt.Printf("%s %s thread=%s: %s\n", m.TS, m.Channel, m.ThreadTS, firstLine(m.Text))
			}
		case f[0] == "acks":
			var worst time.Duration
			acks := s.Acks()
			for _, a := range acks {
				worst = max(worst, a.Latency)
			}
			fmt.Printf("%d acks, slowest %v, %d unacknowledged\n", len(acks), worst, s.Unacked())
		case f[0] == "quit" || f[0] == "exit":
			return
		default:
			fmt.Print(`post CHANNEL TEXT        message (write @bot to mention the bot)
reply CHANNEL TS TEXT    reply in the thread of TS
dm TEXT                  direct message to the bot
as USER                  speak as USER (U123 alice, U456 bob)
react CHANNEL TS EMOJI   add a reaction
cmd CHANNEL TEXT         /einsatz TEXT
shortcut CHANNEL TS      "Send to research inbox" on message TS
click CHANNEL TS LABEL   click a button on a bot message
disconnect               ask the bot to reconnect (socket mode)
posts | acks | quit
`)
		}
		if err != nil {
			fmt.Println(err)
		}
		fmt.Print("> ")
	}
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
