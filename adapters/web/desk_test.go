package web_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/web"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/escalation/escalationtest"
	"github.com/einsatz/einsatz/handlers/handoff"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// The desk speaks German to a German browser, offers knowledge-base
// passages as canned replies (one fills the reply box), and refuses a
// form without its CSRF token.
func TestDeskGermanCannedAndCSRF(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	mem := escalationtest.NewMem()
	th := bot.ThreadRef{Platform: "discord", ChannelID: "C1", ThreadID: "T1"}
	if err := mem.PutEscalation(context.Background(), escalation.Escalation{ID: escalation.IDOf(th, t0), Thread: th,
		User: bot.User{Name: "ann"}, Reason: "asked for a human", Created: t0, Status: escalation.StatusOpen}); err != nil {
		t.Fatal(err)
	}
	desk := handoff.New(handoff.Options{Store: mem, Clock: bottest.NewClock(t0.Add(time.Hour)), Logger: discard(), SLA: 30 * time.Minute})
	chunks, err := knowledge.LoadFS(os.DirFS("../../knowledge"), ".")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := knowledge.NewIndex(chunks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	srv, c, _ := startPages(t, web.Options{}, func(s *web.Server) { s.AddHandoff(desk, ix) })

	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/dashboard/escalations?state=unclaimed", nil)
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	for _, want := range []string{"Offen: <strong id=\"count-open\">1</strong>", "Vom Team übernommen", "30m0s überfällig"} {
		if !strings.Contains(body, want) {
			t.Errorf("German desk lacks %q:\n%s", want, body)
		}
	}

	id := escalation.IDOf(th, t0)
	code, page := get(t, c, srv.URL()+"/dashboard/escalations/"+id+"?q=install&use=0")
	if code != http.StatusOK || !strings.Contains(page, `id="canned"`) {
		t.Fatalf("canned search: %d\n%s", code, page)
	}
	box := page[strings.Index(page, `id="reply-text"`):]
	box = box[:strings.Index(box, "</textarea>")]
	if len(strings.TrimSpace(box[strings.Index(box, ">")+1:])) < 20 {
		t.Fatalf("the reply box was not filled from the passage: %q", box)
	}

	resp, err = c.PostForm(srv.URL()+"/dashboard/escalations/"+id+"/claim", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("claim without CSRF token: %d, want 403", resp.StatusCode)
	}
	if e, _ := desk.Find(context.Background(), id); e.Status != escalation.StatusOpen {
		t.Fatalf("a refused form changed the escalation: %+v", e)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
