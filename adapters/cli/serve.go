package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
)

// Serving is what `einsatz run` serves, built by the program's wiring.
type Serving struct {
	Core *bot.Bot
	// Web is the web server. Without it the bot is of no use: if it cannot
	// listen (the port is taken), everything stops with that error.
	Web *web.Server
	// Adapters are the other platforms (Discord, Slack).
	Adapters []bot.Adapter
	// Background is work beside the adapters until they stop (hand-back
	// timer, file watcher); it ends before Serve returns, so before the
	// caller closes storage.
	Background []Task
	Logger     *slog.Logger
}

// Task is background work; Failed is logged with its error if it stops
// early.
type Task struct {
	Run    func(context.Context) error
	Failed string
}

// Serve runs the core with the web server and the other adapters until ctx
// ends or the web server fails, prints where to reach the bot once it
// listens, and returns when the adapters and the background work have
// stopped and the core has drained.
func Serve(ctx context.Context, s Serving, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	var background sync.WaitGroup
	defer func() {
		cancel()
		background.Wait()
	}()
	for _, t := range s.Background {
		background.Go(func() {
			if err := t.Run(ctx); err != nil {
				s.Logger.Error(t.Failed, "err", err)
			}
		})
	}
	adapters := append([]bot.Adapter{essentialWeb{s.Web, cancel}}, s.Adapters...)
	names := make([]string, 0, len(adapters))
	for _, ad := range adapters {
		names = append(names, ad.Platform())
	}
	runErr := make(chan error, 1)
	go func() { runErr <- s.Core.Run(ctx, adapters...) }()
	select {
	case <-s.Web.Ready():
		fmt.Fprintf(stdout, "einsatz is running; adapters enabled: %s. Ctrl-C stops.\n", strings.Join(names, ", "))
		fmt.Fprintf(stdout, "Chat:      %s/\n", s.Web.URL())
		fmt.Fprintf(stdout, "Dashboard: %s/dashboard\n", s.Web.URL())
		if login := s.Web.LoginURL(); login != "" {
			fmt.Fprintf(stdout, "Log in once with: %s\n", login)
		}
	case err := <-runErr:
		return err
	}
	return <-runErr
}

// essentialWeb is the web adapter whose failure stops the bot: a taken
// port must not leave a process that serves nothing. It embeds the server
// itself, not an interface, so its optional abilities (Completer) stay
// visible to the core.
type essentialWeb struct {
	*web.Server
	stop context.CancelFunc
}

func (e essentialWeb) Run(ctx context.Context, sink bot.Sink) error {
	err := e.Server.Run(ctx, sink)
	if err != nil && !errors.Is(err, context.Canceled) {
		e.stop()
	}
	return err
}
