package bot

// Reading is the one primary reading of a message addressed to the bot:
// what kind of response it gets. The core sets Event.Reading before the
// router runs (Options.Read); routes match on it, and observers leave
// messages with a reading to the router, so each gets one response.
type Reading string

// Readings.
const (
	ReadingQuestion    Reading = "question"        // answered from the knowledge base, or "I don't know"
	ReadingRequest     Reading = "feature_request" // filed in the research inbox, thanked
	ReadingHuman       Reading = "human"           // handed to staff
	ReadingFrustration Reading = "complaint"       // acknowledged with empathy, escalated
	ReadingThanks      Reading = "thanks"          // a short "you're welcome" or nothing
	ReadingGreeting    Reading = "greeting"        // greeted back, told what the bot does
	ReadingOther       Reading = "other"           // nothing to answer
)

// Reads is a Match for messages of that reading.
func Reads(r Reading) func(*Event) bool {
	return func(ev *Event) bool { return ev.Kind == KindMessage && ev.Reading == r }
}
