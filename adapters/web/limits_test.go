package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
)

// slowBody opens a connection that sends a chat request's header and then
// its body one byte at a time, as a slowloris client does. It returns the
// connection; the trickle stops when the server closes it.
func slowBody(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/chat HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{", addr)
	go func() {
		for {
			time.Sleep(50 * time.Millisecond)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	return conn
}

// Many clients holding request bodies open neither keep their connections
// nor stop /healthz from answering: the read timeout cuts them off and the
// connection limit keeps them from using up file descriptors.
func TestSlowClientsDoNotStopHealthz(t *testing.T) {
	const maxConns = 4
	s := startSite(t, web.Options{MaxConnections: maxConns, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 2 * time.Second}, nil)
	var slow []net.Conn
	for range 3 * maxConns {
		slow = append(slow, slowBody(t, s.Addr()))
	}
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz behind %d slow clients: %v", len(slow), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
	// Each slow client was cut off: the server answered and closed, or
	// reset the connection (data it had not read was still arriving).
	for i, c := range slow {
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		var ne net.Error
		if _, err := io.ReadAll(c); errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("slow client %d still connected: %v", i, err)
		}
	}
}

// A chat request waiting for its answer longer than the write timeout
// still gets it: the wait is not writing.
func TestChatAnswerOutlastsWriteTimeout(t *testing.T) {
	s := startSite(t, web.Options{WriteTimeout: 200 * time.Millisecond}, slowHandler(600*time.Millisecond))
	resp, out := postChat(t, s.URL(), `{"conversation_id":"c1","text":"hello there"}`, nil)
	if resp.StatusCode != http.StatusOK || len(out.Replies) == 0 {
		t.Fatalf("chat answer after the write timeout: %d %+v", resp.StatusCode, out)
	}
}

// slowHandler answers every message after d, like a slow language model.
func slowHandler(d time.Duration) bot.Handler {
	return bot.HandlerFunc(func(ctx context.Context, _ *bot.Event) ([]bot.Reply, error) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return []bot.Reply{{Text: "slow answer"}}, nil
	})
}
