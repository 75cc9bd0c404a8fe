package discord_test

import (
	"context"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/discord"
	"github.com/einsatz/einsatz/adapters/discord/discordtest"
)

func TestPermissionsInteger(t *testing.T) {
	t.Parallel()
	// View Channel 1024 + Send Messages 2048 + Embed Links 16384 + Add
	// Reactions 64 + Read Message History 65536 + Manage Webhooks 2^29 +
	// Manage Threads 2^34 + Create Public Threads 2^35 + Send Messages in
	// Threads 2^38.
	const want = 326954470464
	if got := discord.Permissions(); got != want {
		t.Errorf("Permissions() = %d, want %d", got, want)
	}
	got := discord.InviteURL("123456")
	if want := "https://discord.com/oauth2/authorize?client_id=123456&permissions=326954470464&scope=bot+applications.commands"; got != want {
		t.Errorf("InviteURL = %s\nwant       %s", got, want)
	}
}

func TestApplicationID(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.Options{})
	id, err := discord.ApplicationID(context.Background(), discord.Options{Token: srv.Token, APIURL: srv.URL})
	if err != nil || id != srv.AppID {
		t.Errorf("ApplicationID = %q, %v; want %q", id, err, srv.AppID)
	}
	if _, err := discord.ApplicationID(context.Background(), discord.Options{Token: "nope", APIURL: srv.URL}); err == nil || !strings.Contains(err.Error(), "DISCORD_TOKEN") {
		t.Errorf("with a wrong token: %v", err)
	}
}
