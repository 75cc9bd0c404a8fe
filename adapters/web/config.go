package web

import (
	"context"
	"fmt"
	"github.com/einsatz/einsatz/bot/personal"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/handlers/imports"
	"github.com/einsatz/einsatz/handlers/privacy"
	"github.com/einsatz/einsatz/handlers/support"
	"github.com/einsatz/einsatz/storage"
)

// Features are what the whole site serves and renders, built by the
// program's wiring.
type Features struct {
	Store *storage.Store
	// Core is the bot: its stats, imports replayed through it, and
	// exclusive access while a member's data is erased.
	Core interface {
		Core
		imports.Replayer
		Exclusive(func())
	}
	KB interface {
		Knowledge
		Len() int
	}
	// Sources are the knowledge base's websites and repositories (nil:
	// none, no Knowledge page).
	Sources KnowledgeSources
	Inbox   Inbox
	// Desk is the hand-off: the Escalations page and its actions.
	Desk Desk
	// Mood is where the Sentiment page and the overview read aggregates
	// (the cluster's in cluster mode); nil: the store's own.
	Mood mood.Store
	// Memory are the running features' parts of a person beyond the
	// stores (the inbox's recent messages and word index): erasure
	// reaches them after the stores.
	Memory []personal.Part
	// Candidates are the solved threads waiting for review (nil: no page).
	Candidates Candidates
	Metrics    prometheus.Gatherer // served at /metrics
	// Problems adds reasons for /readyz to say not ready (nil: none).
	Problems func(context.Context) []string
	// Settings describe what the config turns on, for the dashboard's
	// status (the knowledge base's size is added live).
	Settings []string
	Logger   *slog.Logger
}

// FromConfig builds the web adapter from the config (web:, staff.web:,
// support:) with every feature's pages and admin API: chat page and API,
// dashboard, knowledge base, hand-offs, privacy, imports, inbox, support
// log and sentiment.
func FromConfig(cfg *config.Config, f Features) (*Server, error) {
	accounts := make([]Account, 0, len(cfg.Staff.Web))
	for _, acc := range cfg.Staff.Web {
		accounts = append(accounts, Account{Name: acc.Name, Role: acc.Role, Token: acc.Token, PasswordHash: acc.PasswordHash})
	}
	site, err := New(Options{
		Addr:           cfg.Web.Addr,
		PublicURL:      cfg.Web.PublicURL,
		CORSOrigins:    cfg.Web.CORSOrigins,
		APIKey:         cfg.Web.APIKey,
		ChatPerMin:     cfg.Web.ChatRateLimit.PerMinute,
		ChatBurst:      cfg.Web.ChatRateLimit.Burst,
		TrustProxy:     cfg.Web.TrustProxy,
		ReadTimeout:    cfg.Web.ReadTimeout,
		WriteTimeout:   cfg.Web.WriteTimeout,
		IdleTimeout:    cfg.Web.IdleTimeout,
		MaxHeaderBytes: cfg.Web.MaxHeaderBytes,
		MaxConnections: cfg.Web.MaxConnections,
		Accounts:       accounts,
		CredentialFile: filepath.Join(cfg.Storage.Path, CredentialFileName),
		Store:          f.Store,
		Core:           f.Core,
		Gatherer:       f.Metrics,
		Problems:       f.Problems,
		BotName:        cfg.Bot.Name,
		Logger:         f.Logger,
		Status: func() []string {
			return append(f.Settings[:len(f.Settings):len(f.Settings)], fmt.Sprintf("knowledge chunks: %d", f.KB.Len()))
		},
	})
	if err != nil {
		return nil, err
	}
	site.AddKnowledge(f.KB)
	if f.Sources != nil {
		site.AddKnowledgeSources(f.Sources)
	}
	if f.Candidates != nil {
		site.AddCandidates(f.Candidates)
		if pa, ok := f.Candidates.(PublicAnswers); ok && cfg.Knowledge.Publish {
			base := cfg.Knowledge.PublicURL
			if base == "" {
				base = cfg.Web.PublicURL
			}
			site.AddAnswers(pa, base)
			if d, ok := f.KB.(PublicDocs); ok && cfg.Knowledge.PublishesKB() {
				site.AddPublicDocs(d)
			}
			if p, ok := f.Candidates.(Publishing); ok {
				site.AddPublishing(p)
			}
		}
	}
	site.AddHandoff(f.Desk, f.KB)
	// Export, erasure and imports touch every member's data: admins only.
	site.AddPrivacy(privacy.People{Part: append(storage.Parts(f.Store), f.Memory...)}, f.Core.Exclusive)
	site.AddImports(f.Core)
	site.AddInbox(f.Inbox)
	if b, ok := f.Inbox.(Board); ok && cfg.Inbox.PublicBoard {
		site.AddRoadmap(b, RoadmapFromConfig(cfg.Inbox.PublicBoardOAuth, cfg.Web.PublicURL))
	}
	site.AddSupport(storage.NewSupport(f.Store), support.Settings{FollowUp: cfg.Support.FollowUp, Similarity: cfg.Support.Similarity})
	moods := f.Mood
	if moods == nil {
		moods = storage.NewSentiment(f.Store)
	}
	site.AddSentiment(moods, nil)
	site.SetOverview(OverviewSources{Desk: f.Desk, Inbox: f.Inbox, Questions: storage.NewSupport(f.Store), Mood: moods,
		Names: storage.NewNames(f.Store), Knowledge: f.KB, FollowUp: cfg.Support.FollowUp})
	return site, nil
}
