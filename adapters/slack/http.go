package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/einsatz/einsatz/bot"
)

// ReplayWindow is how far a request's timestamp may be from now.
const ReplayWindow = 5 * time.Minute

// HTTPHandler serves the Events API, slash commands and interactivity at
// one request URL (mount it at /slack/events, as Slack's Bolt does). Each
// request is checked against the signing secret and the replay window
// (401 otherwise), limited to MaxBody, answered 200 before any work, then
// translated and queued. url_verification is answered with its challenge.
// Until Run has started, deliveries get 503 so that Slack retries them.
func (a *Adapter) HTTPHandler() http.Handler { return http.HandlerFunc(a.serveHTTP) }

func (a *Adapter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.log.Warn("slack: delivery over the body limit refused", "limit", a.opts.MaxBody)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading body", http.StatusBadRequest)
		return
	}
	if err := a.verify(r.Header, body); err != nil {
		a.log.Warn("slack: delivery with a bad signature refused", "err", err, "remote", r.RemoteAddr,
			"fix", "if these are Slack's own requests, check slack.signing_secret (Basic Information → App Credentials) and the server's clock")
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))

	var kind string
	var translate func(Env) (bot.Event, error)
	switch ctype {
	case "application/json":
		var head struct {
			Type      string `json:"type"`
			Challenge string `json:"challenge"`
		}
		if err := json.Unmarshal(body, &head); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		if head.Type == "url_verification" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"challenge": head.Challenge})
			return
		}
		kind = "event"
		translate = func(env Env) (bot.Event, error) { return TranslateEvent(body, env) }
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if p := form.Get("payload"); p != "" {
			kind = "interaction"
			translate = func(env Env) (bot.Event, error) { return TranslateInteraction([]byte(p), env) }
		} else if form.Get("command") != "" {
			kind = "command"
			translate = func(env Env) (bot.Event, error) { return TranslateCommand(SlashCommandFromForm(form), env) }
		} else {
			http.Error(w, "neither an interaction nor a command", http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}

	a.mu.Lock()
	running := a.sink != nil
	a.mu.Unlock()
	if !running {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	// Acknowledge first; the rest only queues.
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	a.accept(kind, translate, retry)
}

// verify checks the request signature. The replay window is checked
// against Options.Now (so tests can move the clock); the HMAC is checked by
// slack-go's SecretsVerifier, which also applies its own 5-minute window
// against the wall clock (the two agree unless a test moves Now).
func (a *Adapter) verify(h http.Header, body []byte) error {
	ts, err := strconv.ParseInt(h.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil {
		return errors.New("missing or bad X-Slack-Request-Timestamp")
	}
	if d := a.opts.Now().Sub(time.Unix(ts, 0)); d > ReplayWindow || d < -ReplayWindow {
		return fmt.Errorf("timestamp %s off: outside the %s replay window", d.Round(time.Second), ReplayWindow)
	}
	sv, err := slack.NewSecretsVerifier(h, a.opts.SigningSecret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}
