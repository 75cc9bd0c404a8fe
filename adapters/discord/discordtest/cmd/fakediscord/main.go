// Command fakediscord runs the fake Discord of package discordtest on a
// port, so that a person can point `einsatz run` at it and watch the bot
// answer. It prints the api_url and token to use, then reads simple
// commands on stdin (type "help") and prints what the bot posts.
//
//	go run ./adapters/discord/discordtest/cmd/fakediscord -addr 127.0.0.1:8089
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
)

const help = `commands (CHANNEL is a name such as general, or an id; threads are ids):
  mention CHANNEL TEXT          post TEXT mentioning the bot
  post CHANNEL TEXT             post TEXT without a mention
  forum CHANNEL TITLE | TEXT    open a forum post
  dm TEXT                       send the bot a direct message
  slash CHANNEL NAME [ARGS]     run a slash command (e.g. slash general ask how do I install?)
  forward CHANNEL MESSAGE       run "Send to research inbox" on a message
  solution THREAD MESSAGE       run "Mark solution" on a message (the help forum has a "Solved" tag)
  tags THREAD                   show a thread's tags and whether it is archived
  react CHANNEL MESSAGE EMOJI   react to a message
  click CHANNEL MESSAGE ID      click the button with custom id ID on a message
  as NAME                       speak as another user (default alice)
  channels                      list channels
  commands                      list the registered commands
  disconnect                    drop the gateway connection (the bot resumes)
  help, quit`

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "address to listen on")
	token := flag.String("token", "fake-bot-token", "bot token the fake accepts")
	deadline := flag.Duration("deadline", 3*time.Second, "interaction deadline")
	verbose := flag.Bool("v", false, "log what the fake does")
	noContent := flag.Bool("no-message-content", false, "act as if the MESSAGE CONTENT intent were off in the portal")
	flag.Parse()

	out := &printer{w: os.Stdout}
	var srv *discordtest.Server
	opts := discordtest.Options{
		Addr: *addr, Token: *token, InteractionDeadline: *deadline, NoMessageContentIntent: *noContent,
		OnMessage: func(m discordtest.Message) { out.botMessage(srv, m) },
	}
	if *verbose {
		opts.Logf = func(f string, args ...any) { out.printf("  (fake) "+f+"\n", args...) }
	}
	srv, err := discordtest.Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakediscord:", err)
		os.Exit(1)
	}
	defer srv.Close()
	names := map[string]string{
		"general":       srv.TextChannel(srv.Guild, "general"),
		"help":          srv.TaggedForum(srv.Guild, "help", "Question", "Bug", "✅ Solved"),
		"announcements": srv.TextChannel(srv.Guild, "announcements"),
	}
	users := map[string]discordtest.User{}
	user := func(name string) discordtest.User {
		if u, ok := users[name]; ok {
			return u
		}
		users[name] = srv.NewUser(name)
		return users[name]
	}
	me := user("alice")

	out.printf(`fake Discord is up
  api_url: %s
  token:   %s
  guild:   %s
  channels: general=%s (text), help=%s (forum), announcements=%s (text)

Point the bot at it, e.g. in config.yaml:
  discord:
    api_url: %s
then: DISCORD_TOKEN=%s einsatz run

%s
`, srv.URL, srv.Token, srv.Guild, names["general"], names["help"], names["announcements"], srv.URL, srv.Token, help)

	resolve := func(s string) string {
		if id, ok := names[strings.TrimPrefix(s, "#")]; ok {
			return id
		}
		return s
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		cmd, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		func() {
			defer func() {
				if r := recover(); r != nil {
					out.printf("error: %v\n", r)
				}
			}()
			switch cmd {
			case "mention", "post":
				ch, text, _ := strings.Cut(rest, " ")
				m := srv.Post(resolve(ch), me, text, cmd == "mention")
				out.printf("%s: message %s\n", me.Name, m.ID)
			case "forum":
				ch, body, _ := strings.Cut(rest, " ")
				title, text, ok := strings.Cut(body, "|")
				if !ok {
					text = title
				}
				id, _ := srv.ForumPost(resolve(ch), me, strings.TrimSpace(title), strings.TrimSpace(text))
				out.printf("%s: forum post %s\n", me.Name, id)
			case "dm":
				m := srv.Post(srv.DMChannel(me), me, rest, false)
				out.printf("%s: direct message %s\n", me.Name, m.ID)
			case "slash":
				f := strings.SplitN(rest, " ", 3)
				if len(f) < 2 {
					out.printf("usage: slash CHANNEL NAME [ARGS]\n")
					return
				}
				args := ""
				if len(f) == 3 {
					args = f[2]
				}
				out.printf("%s: /%s (interaction %s)\n", me.Name, f[1], srv.SlashCommand(resolve(f[0]), me, f[1], args))
			case "forward":
				f := strings.Fields(rest)
				if len(f) != 2 {
					out.printf("usage: forward CHANNEL MESSAGE\n")
					return
				}
				out.printf("%s: forward (interaction %s)\n", me.Name, srv.MessageCommand(resolve(f[0]), me, "Send to research inbox", f[1]))
			case "solution":
				f := strings.Fields(rest)
				if len(f) != 2 {
					out.printf("usage: solution THREAD MESSAGE\n")
					return
				}
				out.printf("%s: mark solution (interaction %s)\n", me.Name, srv.MessageCommand(resolve(f[0]), me, "Mark solution", f[1]))
			case "tags":
				th, ok := srv.ChannelInfo(resolve(strings.TrimSpace(rest)))
				if !ok {
					out.printf("usage: tags THREAD\n")
					return
				}
				var names []string
				if forum, ok := srv.ChannelInfo(th.ParentID); ok {
					for _, id := range th.AppliedTags {
						for _, t := range forum.Tags {
							if t.ID == id {
								names = append(names, t.Name)
							}
						}
					}
				}
				out.printf("%s: tags %v, archived %v\n", th.ID, names, th.Archived)
			case "react":
				f := strings.Fields(rest)
				if len(f) != 3 {
					out.printf("usage: react CHANNEL MESSAGE EMOJI\n")
					return
				}
				srv.React(resolve(f[0]), f[1], me, f[2])
			case "click":
				f := strings.Fields(rest)
				if len(f) != 3 {
					out.printf("usage: click CHANNEL MESSAGE CUSTOM_ID\n")
					return
				}
				out.printf("%s: click (interaction %s)\n", me.Name, srv.ClickButton(resolve(f[0]), f[1], me, f[2]))
			case "as":
				me = user(rest)
			case "channels":
				keys := make([]string, 0, len(names))
				for k := range names {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					out.printf("  %s = %s\n", k, names[k])
				}
			case "commands":
				for _, c := range append(srv.Commands(""), srv.Commands(srv.Guild)...) {
					out.printf("  %s (type %d) %s\n", c.Name, c.Type, c.Description)
				}
			case "disconnect":
				srv.Disconnect()
			case "help":
				out.printf("%s\n", help)
			case "quit", "exit":
				os.Exit(0)
			default:
				out.printf("unknown command %q; type help\n", cmd)
			}
		}()
	}
}

type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

func (p *printer) botMessage(srv *discordtest.Server, m discordtest.Message) {
	where := m.ChannelID
	if c, ok := srv.ChannelInfo(m.ChannelID); ok {
		where = "#" + c.Name
		if c.Type == discordtest.TypeThread {
			if parent, ok := srv.ChannelInfo(c.ParentID); ok {
				where = fmt.Sprintf("#%s > thread %s %q", parent.Name, c.ID, c.Name)
			}
		}
		if c.Type == discordtest.TypeDM {
			where = "DM"
		}
	}
	verb := "posted"
	if m.Edited {
		verb = "edited"
	}
	text := strings.ReplaceAll(m.Content, "\n", "\n    ")
	if m.Content == "" && m.Flags&(1<<7) != 0 {
		text = "(thinking…)"
	}
	who := "bot"
	if m.WebhookID != "" {
		who = fmt.Sprintf("bot (webhook, as %q)", m.Author.Name)
	}
	p.printf("[%s] %s %s message %s:\n    %s\n", where, who, verb, m.ID, text)
	for _, row := range m.Buttons {
		for _, b := range row {
			p.printf("    [%s] (click %s %s %s)\n", b.Label, m.ChannelID, m.ID, b.CustomID)
		}
	}
}
