package detect

import (
	"math"
	"strings"
	"testing"

	"github.com/einsatz/einsatz/bot/lang/scan/scantest"
)

// labelled is a line of the frozen set (testdata/feature_requests.jsonl at
// the repository root) or of the training set (testdata/train.jsonl).
type labelled struct {
	scantest.Message
	FeatureRequest bool `json:"feature_request"`
}

const (
	frozenSet    = "../../../testdata/feature_requests.jsonl"
	trainSet     = "testdata/train.jsonl"
	lookalikeSet = "testdata/lookalikes.jsonl"
)

func readLabelled(tb testing.TB, name string) []labelled {
	tb.Helper()
	return scantest.ReadLabelled[labelled](tb, name)
}

// evaluate runs the detector (with the labelled language, and with the
// guessed one) over msgs, logs the figures overall, per language and per
// kind of hard negative, and the errors.
func evaluate(t *testing.T, msgs []labelled) (all scantest.Confusion, perLang map[string]*scantest.Confusion) {
	t.Helper()
	perLang = map[string]*scantest.Confusion{"en": {}, "de": {}}
	var guessed scantest.Confusion
	hard := map[string]*[2]int{} // kind → correct, total
	for _, m := range msgs {
		r := DetectLang(m.Text, m.Lang)
		all.Add(m.FeatureRequest, r.FeatureRequest)
		perLang[m.Lang].Add(m.FeatureRequest, r.FeatureRequest)
		guessed.Add(m.FeatureRequest, Detect(m.Text).FeatureRequest)
		if kind, ok := strings.CutPrefix(m.Note, "hard negative: "); ok {
			if hard[kind] == nil {
				hard[kind] = &[2]int{}
			}
			hard[kind][1]++
			if !r.FeatureRequest {
				hard[kind][0]++
			}
		}
		if r.FeatureRequest != m.FeatureRequest {
			t.Logf("wrong: feature_request=%-5v score %.2f %q (%s)", m.FeatureRequest, r.Score, m.Text, m.Note)
		}
	}
	t.Logf("all: %v", all)
	t.Logf("en:  %v", *perLang["en"])
	t.Logf("de:  %v", *perLang["de"])
	t.Logf("language guessed by lang.Guess: %v", guessed)
	for _, kind := range []string{"bug report", "question", "praise", "rant"} {
		if h := hard[kind]; h != nil {
			t.Logf("hard negatives, %s: %d of %d recognised", kind, h[0], h[1])
		}
	}
	return all, perLang
}

// TestFrozenSet measures the detector on the frozen set at the repository
// root, which was written and committed before the detector was built and
// is never used to fit or tune it. Run with -v for the figures.
func TestFrozenSet(t *testing.T) {
	msgs := readLabelled(t, frozenSet)
	langs := map[string]int{}
	kinds := map[string]int{}
	pos := 0
	for _, m := range msgs {
		langs[m.Lang]++
		if m.FeatureRequest {
			pos++
		}
		if kind, ok := strings.CutPrefix(m.Note, "hard negative: "); ok {
			kinds[kind]++
			if m.FeatureRequest {
				t.Errorf("hard negative labelled as a feature request: %q", m.Text)
			}
		}
	}
	if len(msgs) < 300 || langs["en"] < 140 || langs["de"] < 140 || kinds["bug report"] < 40 ||
		kinds["question"] < 30 || kinds["praise"] < 20 || kinds["rant"] < 20 {
		t.Errorf("frozen set: %d messages %v, hard negatives %v; want >= 300, 140 per language, 40 bug reports, 30 questions, 20 praise, 20 rants",
			len(msgs), langs, kinds)
	}
	if share := scantest.Ratio(pos, len(msgs)); share < 0.35 || share > 0.45 {
		t.Errorf("frozen set: %.2f positives, want about 0.40", share)
	}

	all, perLang := evaluate(t, msgs)
	// Floors a little under the measured figures (see testdata/README.md).
	floors := map[string][3]float64{ // precision, recall, F1
		"all": {0.90, 0.93, 0.92},
		"en":  {0.88, 0.92, 0.90},
		"de":  {0.88, 0.92, 0.90},
	}
	for name, c := range map[string]scantest.Confusion{"all": all, "en": *perLang["en"], "de": *perLang["de"]} {
		fl := floors[name]
		if c.Precision() < fl[0] || c.Recall() < fl[1] || c.F1() < fl[2] {
			t.Errorf("%s: %v; want precision >= %.2f, recall >= %.2f, F1 >= %.2f", name, c, fl[0], fl[1], fl[2])
		}
	}
}

// TestTrainSet reports the figures on the training set, which the model
// has seen (so they are optimistic), and checks that the sets are apart.
func TestTrainSet(t *testing.T) {
	train := readLabelled(t, trainSet)
	if len(train) < 300 {
		t.Errorf("training set: %d messages, want >= 300", len(train))
	}
	frozen := map[string]bool{}
	for _, m := range readLabelled(t, frozenSet) {
		frozen[strings.ToLower(m.Text)] = true
	}
	for _, m := range append(train, readLabelled(t, lookalikeSet)...) {
		if frozen[strings.ToLower(m.Text)] {
			t.Errorf("training message also in the frozen set: %q", m.Text)
		}
	}
	all, _ := evaluate(t, train)
	if all.F1() < 0.85 {
		t.Errorf("training set: %v; want F1 >= 0.85", all)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		text string
		want bool
		lang string
	}{
		{"", false, "en"},
		{"   ", false, "en"},
		{"?", false, "en"},
		{"Could you add a dark mode?", true, "en"},
		{"please add Matrix support", true, "en"},
		{"It would be great if the bot could post a summary every week", true, "en"},
		{"why is there still no dark mode", true, "en"},
		{"Feature request: export as PDF", true, "en"},
		{"Wäre schön, wenn der Export auch Tags enthält", true, "de"},
		{"bitte baut einen PDF-Export ein", true, "de"},
		{"Es gibt immer noch keinen Export", true, "de"},
		{"the bot crashes when I post an image", false, "en"},
		{"how do I change the threshold?", false, "en"},
		{"thanks!!", false, "en"},
		{"Moin zusammen, schönen Tag euch allen", false, "de"},
		{"Fehler beim Speichern der Einstellungen", false, "de"},
		{"wie kann ich die Sprache ändern?", false, "de"},
		// Look-alikes from other people's words (issue 20): advice to a
		// person, asks for help, personal wishes, bug reports and replies
		// about requests are not requests; wishes aimed at the product are.
		{"you should try the live cd first", false, "en"},
		{"du solltest mal das Paket neu installieren", false, "de"},
		{"probier mal, den Cache zu löschen", false, "de"},
		{"can you add nameserver 8.8.8.8 to your resolv.conf and try again?", false, "en"},
		{"it would be nice if someone could help me with my wifi", false, "en"},
		{"kann mir jemand sagen, wie ich das einstelle?", false, "de"},
		{"I wish I had more time for this", false, "en"},
		{"ich wünschte, ich hätte mehr Zeit", false, "de"},
		{"the export doesn't work anymore", false, "en"},
		{"der Export funktioniert nicht mehr", false, "de"},
		{"that's a good feature request, please file an issue", false, "en"},
		{"can you add an option to mute the bot per channel?", true, "en"},
		{"please make the digest configurable", true, "en"},
		{"wäre toll, wenn der Bot eine Wochenübersicht posten könnte", true, "de"},
		{"könntet ihr eine Einstellung hinzufügen, um den Bot pro Kanal stummzuschalten?", true, "de"},
		{"es wäre super, wenn man Einträge bearbeiten könnte", true, "de"},
		// Long messages are judged by their start and end.
		{"Could you add a dark mode? " + strings.Repeat("Lots of detail here. ", 100), true, "en"},
		{strings.Repeat("Lots of detail here. ", 100) + "It would be great to have a dark mode.", true, "en"},
		{strings.Repeat("lots of log output ", 200), false, "en"},
		// Odd input does not panic.
		{"\xff\xfe \xc3 \xa4", false, "en"},
		{strings.Repeat("ä", 1000), false, "de"},
	}
	for _, tt := range tests {
		r := Detect(tt.text)
		name := tt.text
		if len(name) > 60 {
			name = name[:60] + "…"
		}
		if r.FeatureRequest != tt.want {
			t.Errorf("Detect(%q) = %v (score %.2f), want %v", name, r.FeatureRequest, r.Score, tt.want)
		}
		if r.Lang != tt.lang {
			t.Errorf("Detect(%q).Lang = %q, want %q", name, r.Lang, tt.lang)
		}
		if got := IsFeatureRequest(tt.text, DefaultThreshold); got != tt.want {
			t.Errorf("IsFeatureRequest(%q, default) = %v, want %v", name, got, tt.want)
		}
	}
	// The threshold is the caller's.
	msg := "would be nice to have keyboard shortcuts"
	s := Detect(msg).Score
	if !IsFeatureRequest(msg, s) || IsFeatureRequest(msg, math.Nextafter(s, 2)) {
		t.Errorf("IsFeatureRequest does not compare the score %.3f with the threshold", s)
	}
	if r := DetectLang(msg, "fr"); r.Lang != "en" {
		t.Errorf("DetectLang with an unknown language: Lang %q, want en", r.Lang)
	}
}

// TestFeatures checks that the rule features for the look-alikes of
// requests and for requests aimed at the product fire, in English and
// German, whatever weight the model gives them.
func TestFeatures(t *testing.T) {
	tests := []struct {
		text, lang string
		feature    int
		want       bool
	}{
		{"you should try the live cd first", "en", fAdvice, true},
		{"you may need to install the xfsprogs package", "en", fAdvice, true},
		{"du solltest das Paket neu installieren", "de", fAdvice, true},
		{"probier mal einen anderen Browser", "de", fAdvice, true},
		{"you should add a dark mode", "en", fAdvice, false},
		{"can you add this line to your fstab", "en", fYour, true},
		{"trag es in deine Config ein", "de", fYour, true},
		{"i should have checked the logs", "en", fHindsight, true},
		{"well, it should have.", "en", fHindsight, true}, // "should have" ending a clause
		{"the bot should have a dark mode", "en", fHindsight, false},
		{"hätte ich das mal vorher gewusst, hätte ich es anders machen sollen", "de", fHindsight, true},
		{"I wish I knew why it restarts", "en", fPersonal, true},
		{"wish it was that easy", "en", fPersonal, true},
		{"I wish I could export to PDF", "en", fPersonal, false},
		{"ich wünschte, ich hätte mehr Zeit", "de", fPersonal, true},
		{"wenn ich nur wüsste, wo das steht", "de", fPersonal, true},
		{"it would be great if the bot could post a summary", "en", fToProduct, true},
		{"it would be nice if you could add a filter", "en", fToProduct, true},
		{"it would be nice if you could post your config", "en", fToProduct, false},
		{"wäre toll, wenn es eine Suche gäbe", "de", fToProduct, true},
		{"bitte macht das einstellbar", "de", fToProduct, true},
		{"an option to hide closed items", "en", fCapability, true},
		{"eine Einstellung für den Digest", "de", fCapability, true},
		{"nick: try this", "en", fAddressed, true},
		{"Idee: ein Dunkelmodus", "de", fAddressed, false},
		{"that would be nice though", "en", fBareWish, true},
		{"das wäre schön!", "de", fBareWish, true},
		{"a dark mode would be nice", "en", fBareWish, false},
		{"it would be nice to have tags", "en", fBareWish, false},
		{"that's a good feature request, please file an issue", "en", fReply, true},
		{"gute Idee, gebe ich weiter", "de", fReply, true},
		{"run sudo nano /etc/default/grub", "en", fCommand, true},
		{"any help would be great", "en", fHelpAsk, true},
		{"if someone could explain how this works", "en", fHelpAsk, true},
		{"wäre nett, wenn mir jemand helfen könnte", "de", fHelpAsk, true},
		{"kann mir jemand erklären, wie das geht?", "de", fHelpAsk, true},
		{"it would be nice if someone could walk me through the setup", "en", fHelpAsk, true},
		{"It would be nice to get this card working on ubuntu", "en", fHelpAsk, true},
		{"Should I look for an FTP repository? Any ideas?", "en", fHelpAsk, true},
		{"The best way to get your feature request in front of the team is to use tags", "en", fReply, true},
		{"we're considering adding a new privilege", "en", fReply, true},
		{"wir überlegen schon, wie das gehen könnte", "de", fReply, true},
		{"I'd rather give the privileges directly to 10k users", "en", fPossible, true},
		{"it might be worth giving them some additional privileges", "en", fPossible, true},
		{"please add a dark mode", "en", fReply, false},
		{"can you add the following line to /etc/modprobe.d/alsa-base", "en", fAdvice, true},
		{"but if u have the osx image, then that would be great", "en", fHelpAsk, true},
	}
	for _, tt := range tests {
		f := features(tt.text, tt.lang)
		if got := f[tt.feature] == 1; got != tt.want {
			t.Errorf("features(%q)[%s] = %v, want %v", tt.text, featureNames[tt.feature], got, tt.want)
		}
	}
}

func TestDetectLangAllocs(t *testing.T) {
	msgs := []string{
		"Könntet ihr bitte eine Zwei-Faktor-Anmeldung einbauen?",
		"the bot crashes since the update, please fix",
		strings.Repeat("long message ", 200) + "please add a dark mode",
	}
	for _, m := range msgs {
		if n := testing.AllocsPerRun(100, func() { DetectLang(m, "en") }); n > 0 {
			t.Errorf("DetectLang allocates %.0f times for %.40q", n, m)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	msgs := []string{
		"could you add a dark mode to the dashboard? my eyes are dying at 2am",
		"Seit dem Update funktioniert das Dashboard nicht mehr",
		"how do I change the threshold for the detector?",
		"Wäre echt schön wenn es einen Dark Mode gäbe",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Detect(msgs[i%len(msgs)])
	}
}

func BenchmarkDetectLang(b *testing.B) {
	msgs := []string{
		"could you add a dark mode to the dashboard? my eyes are dying at 2am",
		"Seit dem Update funktioniert das Dashboard nicht mehr",
	}
	langs := []string{"en", "de"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		DetectLang(msgs[i%2], langs[i%2])
	}
}

// FuzzScore checks that no input panics or leaves 0..1; the seeds run
// with go test.
func FuzzScore(f *testing.F) {
	for _, s := range []string{"", "?", "+", "+1", "'", "\xff\xfe", strings.Repeat("ä", 300), strings.Repeat("a, ", 400), "-" + strings.Repeat("x", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p := Detect(s).Score; p < 0 || p > 1 || math.IsNaN(p) {
			t.Errorf("Score(%q) = %v", s, p)
		}
	})
}
