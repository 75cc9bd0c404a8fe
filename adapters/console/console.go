// Package console is the terminal adapter: `einsatz chat` is a REPL through
// the same pipeline as every platform, and over buffers it is the
// in-process end-to-end test harness (see consoletest).
//
// A line is a message in the current thread, "/name args" is a command, and
// lines starting with ":" steer the session:
//
//	:thread NAME   switch to another thread (default "main")
//	:user NAME     speak as another user (default "you")
//	:staff on|off  mark the current user as staff
//	:key KEY       give the next event this idempotency key (to replay a delivery)
//	:help          list these
package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/einsatz/einsatz/bot"
)

// Channel is the console's only channel.
const Channel = "console"

// Options configure the adapter.
type Options struct {
	BotName string // shown before replies; default "Einsatz"
	Prompt  bool   // print a prompt (interactive terminals)
	// Now stamps events; default time.Now.
	Now func() time.Time
}

// Adapter reads lines from in and writes replies to out.
type Adapter struct {
	in   io.Reader
	opts Options

	mu  sync.Mutex // guards out, so replies of parallel threads never interleave
	out io.Writer

	session string // makes event keys unique across runs
	seq     int
	thread  string
	user    bot.User
	nextKey string
}

// New returns a console adapter.
func New(in io.Reader, out io.Writer, opts Options) *Adapter {
	if opts.BotName == "" {
		opts.BotName = "Einsatz"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Adapter{
		in:      in,
		out:     out,
		opts:    opts,
		session: hex.EncodeToString(b[:]),
		thread:  "main",
		user:    bot.User{Platform: bot.PlatformConsole, ID: "you", Name: "you"},
	}
}

// Platform names the adapter.
func (a *Adapter) Platform() string { return bot.PlatformConsole }

// Run reads lines until the input ends or ctx is cancelled. It returns nil at
// the end of the input.
func (a *Adapter) Run(ctx context.Context, sink bot.Sink) error {
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(a.in)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
	}()
	a.prompt()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			if err != nil {
				return fmt.Errorf("console: read input: %w", err)
			}
			return nil
		case line := <-lines:
			a.handleLine(sink, line)
			a.prompt()
		}
	}
}

func (a *Adapter) handleLine(sink bot.Sink, line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	if strings.HasPrefix(line, ":") {
		a.directive(line)
		return
	}
	ev := a.event()
	if strings.HasPrefix(line, "/") {
		name, args, _ := strings.Cut(line[1:], " ")
		ev.Kind = bot.KindCommand
		ev.Command = name
		ev.Args = strings.TrimSpace(args)
	} else {
		ev.Kind = bot.KindMessage
		ev.Text = line
	}
	if err := sink.Submit(ev); err != nil {
		a.printf("(%v)\n", err)
	}
}

func (a *Adapter) event() bot.Event {
	a.seq++
	id := fmt.Sprintf("%s-%d", a.session, a.seq)
	key := "console:" + id
	if a.nextKey != "" {
		key, a.nextKey = a.nextKey, ""
	}
	return bot.Event{
		Key:       key,
		Platform:  bot.PlatformConsole,
		ChannelID: Channel,
		ThreadID:  a.thread,
		MessageID: id,
		DM:        true, // a console chat is one-to-one
		User:      a.user,
		Time:      a.opts.Now(),
	}
}

func (a *Adapter) directive(line string) {
	cmd, arg, _ := strings.Cut(strings.TrimPrefix(line, ":"), " ")
	arg = strings.TrimSpace(arg)
	switch {
	case cmd == "thread" && arg != "":
		a.thread = arg
	case cmd == "user" && arg != "":
		a.user = bot.User{Platform: bot.PlatformConsole, ID: arg, Name: arg, Staff: a.user.Staff}
	case cmd == "staff" && (arg == "on" || arg == "off"):
		a.user.Staff = arg == "on"
	case cmd == "key" && arg != "":
		a.nextKey = arg
	default:
		a.printf("%s", `:thread NAME   switch thread
:user NAME     speak as another user
:staff on|off  mark the current user as staff
:key KEY       idempotency key of the next message
/name args     run a command
`)
	}
}

// Send prints a reply. Replies in threads other than "main" are prefixed with
// the thread's name, posts to another channel (staff.channel set to the
// console) with "#" and the channel's name.
func (a *Adapter) Send(_ context.Context, to bot.ThreadRef, r bot.Reply) error {
	var b strings.Builder
	switch {
	case to.ChannelID != Channel:
		fmt.Fprintf(&b, "[#%s] ", to.ChannelID) // another channel, such as staff.channel
	case to.ThreadID != "main":
		fmt.Fprintf(&b, "[%s] ", to.ThreadID)
	}
	b.WriteString(a.opts.BotName + ": ")
	if r.Ping != "" {
		b.WriteString(r.Ping + " ")
	}
	b.WriteString(strings.ReplaceAll(strings.TrimRight(r.Text, "\n"), "\n", "\n    "))
	b.WriteString("\n")
	for _, s := range r.Sources {
		ref := s.URL
		if ref == "" {
			ref = s.Path
		}
		fmt.Fprintf(&b, "    - %s (%s)\n", s.Title, ref)
	}
	if len(r.Buttons) > 0 {
		b.WriteString("   ")
		for _, btn := range r.Buttons {
			fmt.Fprintf(&b, " [%s]", btn.Label)
		}
		b.WriteString("\n")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := io.WriteString(a.out, b.String())
	return err
}

func (a *Adapter) prompt() {
	if a.opts.Prompt {
		a.printf("> ")
	}
}

func (a *Adapter) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.out, format, args...)
}
