package discord

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// A failed webhook request's error (a network error names the URL) must
// not carry the interaction token into a log line; the REST error code
// stays readable behind it.
func TestRedactTakesTheTokenOut(t *testing.T) {
	rest := &discordgo.RESTError{Response: &http.Response{Status: "401 Unauthorized"}, ResponseBody: []byte(`{"code":50027}`),
		Message: &discordgo.APIErrorMessage{Code: discordgo.ErrCodeInvalidWebhookTokenProvided}}
	netErr := &url.Error{Op: "Patch", URL: "https://discord.com/api/v10/webhooks/1/secret-token/messages/@original", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name  string
		err   error
		token string
		want  string
	}{
		{"network error with the token", netErr, "secret-token", `Patch "https://discord.com/api/v10/webhooks/1/<token>/messages/@original": connection refused`},
		{"no token in it", errors.New("boom"), "secret-token", "boom"},
		{"no token known", netErr, "", netErr.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact(tc.err, tc.token).Error(); got != tc.want {
				t.Errorf("redact = %q, want %q", got, tc.want)
			}
		})
	}
	if wrapped := redact(errors.Join(rest, netErr), "secret-token"); !tokenGone(wrapped) {
		t.Errorf("tokenGone(%v) = false: the REST error's code is lost behind the redaction", wrapped)
	}
	if redact(nil, "secret-token") != nil {
		t.Error("redact(nil) != nil")
	}
}
