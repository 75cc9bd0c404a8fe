package storage

import (
	"testing"

	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/escalation/escalationtest"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/bot/kb/kbtest"
	"github.com/einsatz/einsatz/bot/mood"
	"github.com/einsatz/einsatz/bot/mood/moodtest"
	"github.com/einsatz/einsatz/bot/qa"
	"github.com/einsatz/einsatz/bot/qa/qatest"
	"github.com/einsatz/einsatz/bot/request"
	"github.com/einsatz/einsatz/bot/request/requesttest"
	"github.com/einsatz/einsatz/bot/solved"
	"github.com/einsatz/einsatz/bot/solved/solvedtest"
)

// The feature stores pass the same conformance suites as the in-memory
// fakes handler tests use.

func TestInboxConformance(t *testing.T) {
	requesttest.Run(t, func(t *testing.T) request.Store { return NewInbox(openTest(t, Options{InMemory: true})) })
}

func TestSupportConformance(t *testing.T) {
	qatest.Run(t, func(t *testing.T) qa.Store { return NewSupport(openTest(t, Options{InMemory: true})) })
}

func TestRelayConformance(t *testing.T) {
	escalationtest.RunRelay(t, func(t *testing.T) escalation.RelayStore { return NewRelay(openTest(t, Options{InMemory: true})) })
}

func TestHandoffConformance(t *testing.T) {
	escalationtest.Run(t, func(t *testing.T) escalation.Store { return NewHandoff(openTest(t, Options{InMemory: true})) })
}

func TestKBConformance(t *testing.T) {
	kbtest.Run(t, func(t *testing.T) kb.Store { return NewKB(openTest(t, Options{InMemory: true})) })
}

func TestSentimentConformance(t *testing.T) {
	moodtest.Run(t, func(t *testing.T) mood.Store { return NewSentiment(openTest(t, Options{InMemory: true})) })
}

func TestSolvedConformance(t *testing.T) {
	solvedtest.Run(t, func(t *testing.T) solved.Store { return NewSolved(openTest(t, Options{InMemory: true})) })
	solvedtest.RunNudges(t, func(t *testing.T) solved.NudgeStore { return NewSolved(openTest(t, Options{InMemory: true})) })
}

func TestKBSourcesConformance(t *testing.T) {
	kbtest.RunSources(t, func(t *testing.T) kb.SourceStore { return NewKBSources(openTest(t, Options{InMemory: true})) })
}
