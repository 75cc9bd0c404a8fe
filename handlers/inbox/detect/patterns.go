package detect

import (
	"strings"

	"github.com/einsatz/einsatz/bot/lang/scan"
)

// Phrase patterns, one a line, per feature. A pattern is a sequence of
// steps separated by spaces; a step is a list of alternative words
// separated by "/". A step written "*N:words" may be preceded by up to N
// other words. A word ending in "~" matches any word it begins (German
// compounds: "fehler~" matches "fehlermeldung"). A pattern starting with
// "^" only matches at the start of a clause (after fillers such as "hey",
// "so", "also"). A pattern never reaches past the end of a sentence.
//
// The first word of a pattern is looked up in an index, so a message costs
// one map lookup per word plus the few patterns that start there.
var featurePatterns = map[int]string{
	fAsk: `
		could/can/would/will/cud/couldn't you/u/ya/y'all/we/ye/guys *3:` + createEN + `
		could/can/would/will/cud you/u/ya/we/y'all *3:please/pls/plz/also/maybe *2:` + createEN + `
		could/would the/einsatz bot/inbox/dashboard/cli *3:` + createEN + `
		could/can there be
		könntet/könnt/kannst/könntest/könnten/können ihr/du/sie *6:` + createDE + `
		könnte/kann/könnt man *6:` + createDE + `
		could/can/would/will you/u/ya consider
		könntet/könnt ihr *6:ermöglichen/machen`,
	fImper: `
		^add/support/integrate/implement/allow/give/bring/include/make/build/ensure/provide/enable/offer
		please/pls/plz/pleeease/pleease *2:` + createEN + `
		` + createEN + ` *4:pls/plz/please
		^bitte *6:` + createDE + `/baut/fügt/macht/gebt/lasst/ergänzt/unterstützt/rüstet/nachrüsten
		^baut/fügt/macht/gebt/lasst/ergänzt/unterstützt/rüstet/integriert *4:bitte/doch/mal/noch/uns/endlich/ein/eine/einen
		^bitte eine/einen/ein/noch/mehr
		gebt/lasst uns/nutzer/admins/benutzer/mitglieder
		let us/users/admins/people/members/staff/mods/moderators
		let's have/get/add
		give us
		bitte bitte
		make it happen`,
	fWish: `
		would/'d/will be *3:great/nice/cool/awesome/useful/helpful/handy/amazing/lovely/fantastic/fab/sweet/good/brilliant/neat/ideal/perfect/super/excellent/wonderful/helpfull/grand/huge/valuable/life-saver/lifesaver/gamechanger/dope/sick
		it'd/that'd/would've be *3:great/nice/cool/awesome/useful/helpful/handy/amazing/lovely/fantastic/good/brilliant/neat/super/perfect
		it'd/that'd/it'll/would/'d *2:help/save/rock/solve/fix
		wäre/wär/wären/wärs/wär's/wäre's *4:schön/toll/cool/super/klasse/praktisch/hilfreich/genial/nett/mega/spitze/hammer/nützlich/wichtig/sinnvoll/geil/prima/fein/gut/great/nice/top/traum/grandios/wunderbar/sehr/echt/hilfreich/sinnvoll/überfällig/nice/klasse/willkommen
		würde/würden/würd *5:helfen/erleichtern/lösen/retten/sparen
		would *3:appreciate
		would/'d really appreciate`,
	fDesire: `
		i/we *1:wish/wished *2:there/the/i/we/you/it/they/for/einsatz/that/this/someone/somebody/more/a/an/to
		^wish there/i/we/the/you/it
		would/'d *2:love
		i'd/we'd/id/wed *2:love/like/pay/prefer/want
		i/we would *2:love/like/prefer/pay
		hätte/hätten/hätt/hätt's *3:gern/gerne
		wünsche/wünsch/wünschen *2:mir/uns
		würde/würden/würd *3:mir/uns *3:wünschen
		würde/würden/würd *2:gern/gerne
		fände/fänd/fänd's/fändet/fänden *3:gut/super/toll/praktisch/klasse/schön/cool/genial/hilfreich
		würde/würden/würd *4:zahlen/bezahlen/lieben/feiern
		would/'d be *2:willing happy to pay`,
	fPlan: `
		any/do/got *3:plan/plans/planning
		are/is you/they/there/anyone *2:planning/plans
		on/in the/your roadmap
		any chance
		hope/hoping/hopefully *3:you/you'll/you'd/y'all/we/for/to/soon/someday/one
		gibt/gibt's/gibts es *3:pläne/plan/chance
		pläne/plan für/zu/mit
		^ist/sind *1:es geplant
		habt/hast/haben ihr/du/sie *5:vor
		steht/stehen *5:roadmap
		auf der roadmap
		chance auf/dass
		hoffentlich
		hoffe/hoffen *5:ihr/bald/kommt/einbaut/baut/gibt`,
	fWhen: `
		when will/is/are/do/does/can *6:coming/come/land/ship/arrive/support/get/be/see/have
		wann kommt/kommen/gibt/gibt's/wird/können/kann/wird
		kommt/kommen *6:irgendwann/noch/bald
		wird/werdet *6:irgendwann
		irgendwann *4:kommen/geben/unterstützen/einbauen
		any/an eta
		eta for/on
		endlich *2:kommen/geben/einbauen`,
	fLabel: `
		^feature/feature-request/feature-wunsch/featurewunsch/featurerequest/feature-idee/featureidee/fr/suggestion/suggestions/idea/proposal/request/wunsch/vorschlag/idee/anregung/verbesserungsvorschlag/wishlist/wunschliste/req
		^feature request/req/idea/wish/suggestion/proposal
		^small/quick/little/tiny/kleiner/kleine/kleines/kurzer/kurze idea/suggestion/request/vorschlag/idee/wunsch/anregung
		^missing feature
		^missing/fehlt/fehlend`,
	fMissing: `
		still no/not/nothing/zero
		no way/option/setting/button to
		there's/theres/there/is no way/option
		why is/isn't there *2:no/not/still
		why can't/cant/cannot/can/don't i/we/you/u
		why is *3:not/missing
		how is there *2:no
		missing/lacks/lacking/lack
		i/i'm/im *2:miss/missing
		what/thing/one *3:miss/missing/lacking
		fehlt/fehlen
		vermisse/vermiss/vermissen
		immer/noch *2:kein/keine/keinen/keiner/nicht
		gibt/gibt's/gibts *3:kein/keine/keinen
		kein/keine/keinen *4:gibt
		schade dass/das
		schade
		^kein/keine/keinen
		warum/wieso/weshalb *4:kein/keine/keinen/nicht
		dass/das man *5:nicht
		it's/its/is *3:annoying/ridiculous/weird/frustrating/silly/crazy/absurd that
		ist *3:nervig/lächerlich/komisch/ärgerlich/witz dass
		nervt/nervig *3:dass
		no *3:export/api/support/way/option/search/filter/dark/undo/installer/app/integration`,
	fLost: `
		missing/lacks/fehlt/fehlen/fehlten/fehlte *1:the/my/our/all/its/die/der/das/den/dem/meine/mein/meinen/alle/unsere/unser/sämtliche
		missing/verschwunden from/aus
		went/gone/are/were missing`,
	fNeed: `
		we/i/you *2:need/needed
		need/needs a/an/some/more/support/way/sso/ldap/saml/multi-workspace
		should *3:possible/able/have/support/allow/let/get/offer/include/really/definitely/also
		it *2:should
		man/sie/ihr/es/das/dashboard/bot *2:sollte/sollten
		sollte/sollten *6:können/geben/unterstützen/haben
		bräuchte/bräuchten/brauchen/brauchten/bräucht *4:dringend/unbedingt/eine/einen/ein/echt/noch/mal
		unbedingt
		must have/have-have
		must-have
		should/could *2:also/automatically/ideally/optionally/then/always be *2:highlighted/shown/displayed/available/visible/hidden/allowed/configurable/reversible/raised/enabled/disabled/added/limited/permanent/used/linked/sorted/filtered
		should/could *2:also/automatically/ideally/optionally *2:link/show/display/allow/let/hide/sort/filter/notify/prune/remove/create/add`,
	fPossible: `
		would/will it be possible
		is it possible to/for *3:add/support/have/get/integrate/include/make/implement/build
		would it/that be
		wäre/wär es *2:möglich/machbar/denkbar
		ist es *2:möglich/machbar
		how/what about *3:a/an/adding/some/support/making/letting/the
		wie wär's/wärs/wäre/wär
		was haltet/hältst/haltet *3:von
		^maybe/perhaps/vielleicht *3:add/adding/a/an/support/eine/einen/ein/noch
		has/have anyone/anybody/someone *3:asked/suggested/requested
		i/we *1:propose/envision/envisage *2:that/a/an/to/adding/we/the
		i/we *1:suggest adding/a/an/we/to/making/allowing
		what i/we *1:envision/propose/suggest/envisage
		might/may/would be worth *2:adding/giving/having/making/allowing/offering
		i'd/id rather *3:have/give/see/allow/let/make
		i would rather *3:have/give/see/allow/let/make
		hat *3:jemand/schon *3:vorgeschlagen/gewünscht`,
	fAdvice: `
		you/u/ya/ye should/shouldn't/could/might/may/must/can *2:try/have/use/check/install/be/run/look/see/get/do/set/find/boot/reboot/edit/type/open/read/google/search/ask/just/probably/first/definitely/still/already/upgrade/update/remove/uninstall/pass
		you/u *2:need/needs *2:to/the/a/an/some
		you'll/you'd/youll/youd *2:need/want/have/be/find/see/get
		you have/got to
		^try/check/run/type/install/boot/reboot/edit/paste/pastebin/sudo/google/read/uninstall/reinstall/purge/disable/enable/restart/open
		^use/see/look/go/put/set/remove/delete *4:the/your/a/an/it/this/that//etc/sudo/in/at/into
		du/ihr *3:solltest/solltet/musst/müsst/kannst/könnt/könntest *5:probieren/versuchen/installieren/nutzen/verwenden/schauen/prüfen/nachsehen/einstellen/ausprobieren/starten/nehmen/nachschauen/deinstallieren/neu/löschen/eintragen
		solltest/solltet/musst/müsst du/ihr
		^probier/probiere/probiert/versuch/versuche/versucht/schau/schaut/guck/guckt/prüf/prüfe/nimm/nehmt/installier/installiere/starte/öffne/lies/lösch/trag *3:mal/doch/einfach/es/den/die/das
		am besten *3:du/ihr
		i'd/id *2:suggest/recommend/try/check
		i would *2:suggest/recommend/try/check
		following line/lines/command/commands
		end/start/beginning of the line
		ich/würde *3:empfehlen/vorschlagen
		ich würde *3:nehmen/probieren/versuchen/nutzen/verwenden`,
	fReply: `
		good/great/nice/interesting/valid feature request/idea/suggestion/point/question
		that's/thats/that/it's *3:good/great/nice/interesting feature/idea/suggestion/request
		feel free to *3:file/open/submit/write/report/create
		please/pls *2:file/open/submit/write/report/create *3:a/an/the *2:issue/bug/ticket/request/report
		would/do you mind *3:writing/filing/opening/submitting/sending/reporting
		writing/write into/to support
		file/open/submit/report *3:a/an/the *2:issue/bug/ticket/request/report
		i'll/ill/i will/we'll/we will *3:pass/forward/note/add/look/check/mention
		pass/passed *3:it/this/that on/along
		noted
		guter/gute/interessanter/interessante vorschlag/idee/punkt/frage/hinweis
		legt/leg/mach/macht/schreib/schreibt/eröffne/eröffnet *4:issue/ticket
		gebe/geb/leite/leiten *3:weiter
		nehme/nehmen *3:auf/mit
		notiert
		your feature request/requests
		we're/we've/were/weve *2:considering/thinking/planning/investigating/discussing/looking/working
		we are/have/were *2:considering/thinking/planning/investigating/discussing/looking/working
		we'd/wed like/want to use/address/provide/do/build/migrate/try/improve/share/announce/thank/hear/keep/start/focus/tackle/ship/roll
		we would like/want to use/address/provide/do/build/migrate/try/improve/share/announce/thank/hear/keep/start/focus/tackle/ship/roll
		we plan/intend/are/'re *2:to/building/implementing/rolling/shipping
		i'd/id prefer/like to add/build/implement/introduce/ship/create
		i would prefer/like to add/build/implement/introduce/ship/create
		wir *2:überlegen/planen/prüfen/arbeiten/diskutieren *2:schon/gerade/bereits/daran/an`,
	fCommand: `
		sudo/apt-get/apt/aptitude/dpkg/chmod/chown/fdisk/mkfs/modprobe/grub/lsusb/lspci/dmesg/ifconfig/iwconfig/systemctl/service/ppa/pip/npm/cargo/brew/regedit/powershell/cmd
		terminal/konsole/kommandozeile/shell/bash`,
	fYour: `
		your/ur/yours/yourself/dein/deine/deinen/deinem/deiner/dir`,
	fHindsight: `
		should've/shoulda/shouldve/could've/would've
		hätte/hättest/hättet/hätten *6:sollen/müssen/können
		^i/you/we should/shouldn't have
		wäre/wärst/hätte *3:besser *3:gewesen`,
	fPersonal: `
		wish/wished/wishing i/we *2:knew/had/was/were/did/didn't/hadn't/understood/remembered/knew/'d/wasn't/weren't
		wish/wished i/we could *2:remember/find/help/go/jump/afford/sleep/come/tell/say/answer/stay/buy/travel
		wish it/that/this was/were/wasn't/hadn't
		wish there was/were *2:someone/somebody/anyone/more
		wish *3:luck/time/money
		more time
		wünschte/wünschte's/wünscht/wünschten *3:ich/wir/es *4:hätte/hätten/könnte/könnten/wäre/wären/wüsste/wüssten
		^hätte/hätten ich/wir *2:doch/nur/bloß
		wenn ich *2:nur/doch/bloß
		wäre/wär ich *2:doch/nur/bloß
		ich wüsste *3:gern/gerne
		mehr zeit
		i'd/id like/love to see your`,
	fToProduct: `
		if/when/that it/einsatz/this/dashboard/bot/app/inbox/tool/there/they/devs/developers/program/software/system/site/website/distro/installer *3:could/would/can/supported/had/offered/allowed/showed/let/were/was/came/shipped/supports/has/did/included
		if/when/that you/u/y'all/you'd/you'll/ye/you'se *3:could/would/can/guys *3:` + createEN + `
		if the *3:could/would/supported/had/offered/allowed/showed/supports/came/shipped/included
		wenn/falls/dass es/der/die/das/man/ihr/einsatz/er/sie *5:könnte/könnten/könntet/gäbe/hätte/hätten/würde/würden/unterstützt/unterstützen/einbaut/einbauen/einbauen/anzeigt/anzeigen/gibt/bietet/anbietet/anbieten/ermöglicht/hätte/erlauben/erlaubt
		wenn/falls/dass ihr *5:` + createDE + `/baut/ergänzt/einbaut/macht
		please/pls/plz/bitte make/mach/macht/baut
		can/could you/u/ye/ya/ihr/du *2:add/support/make/implement/include/allow/enable/integrate/einbauen/hinzufügen/ergänzen
		^make/let it/the/einsatz
		add/adding *2:support/option/setting/ability/feature/button/toggle/integration/mode/way
		support/supports/supported for
		in/to/into/for the/einsatz/your next/future/upcoming/nächsten/nächste/release/version/update/roadmap
		einbauen/hinzufügen/ergänzen/unterstützen/nachrüsten/integrieren/anbieten/bereitstellen`,
	fCapability: `
		option/options/setting/settings/toggle/toggles/button/buttons/feature/features/ability/shortcut/shortcuts/configurable/customizable/customisable/customization/customisation/preference/preferences/mode/option~/einstellung~/funktion~/feature~/möglichkeit/möglichkeiten/schalter/knopf/knöpfe/modus/konfigurierbar/einstellbar/anpassbar/standardmäßig/abschaltbar/ausblendbar
		be able to
		able to
		by default
		out of the box
		built-in/builtin/natively/native
		von haus aus
		ab werk`,
	fPlusOne: `
		+1
		upvote/upvoted/seconded/second this
		dito`,
	fBug: `
		crash/crashes/crashed/crashing/crashy/bug/bugs/buggy/broken/breaks/broke/error/errors/fails/failed/failing/failure/exception/panic/panics/500/502/503/404/nan/freeze/freezes/froze/hangs/hang/stuck/glitch/wrong/twice/disappear/disappears/disappeared/gone/leak/leaks/leaking/corrupt/corrupted/regression/timeout/deadline/stacktrace/traceback/segfault/unresponsive/white/empty/blank
		doesn't/doesnt/don't/dont/isn't/isnt/won't/wont/can't/cant/cannot/didn't work/working/load/loading/respond/responding/open/start/show/trigger/save
		not working/loading/responding/showing/saved/shown
		stopped/stops *2:working/responding/posting/answering
		nothing happens
		stürzt/kaputt/abgestürzt/abstürzt/hängt/verschwinden/verschwunden/verschwindet/weg/doppelt/zweimal/dreimal/falsch/falsche/fehlerhaft/leer/hängen/abgeschnitten/endlos/buggy/nan/500er/verschoben
		funktioniert/klappt/geht/lädt/reagiert/läuft/startet *4:nicht/kein/keine
		fix/fixen/fixed/repariert/reparieren/fehlermeldung
		bricht *4:ab
		fehler~/absturz~/abstürz~/crash~
		resolve/resolved/solve/solved/address *3:issue/issues/problem/problems/bug/bugs/this/these
		problem/probleme/fehler *3:beheben/lösen/behoben/gelöst
		wird/werden *4:nicht *3:angezeigt/gespeichert/ausgelöst`,
	fRegress: `
		since/after *3:update/updating/upgrade/upgrading/updated/upgraded/restart/restarting/reinstall/reinstalling/yesterday/today/morning/release/version/v1/1.3/0.9/1.2/1.4
		no longer
		anymore/again
		seit *4:update/upgrade/gestern/heute/neustart/version/release/dem/der/1.3/0.9/1.2/1.4/tagen/morgen
		nach *3:update/upgrade/neustart/neuinstallation/aktualisierung
		nicht/nix mehr
		schon wieder
		used to work
		hat *3:funktioniert`,
	fQuestion: `
		^how/where/what/what's/whats/which/who/wie/wo/was/welche/welcher/welches/welchem/welchen/wer/woher/womit/auf
		^is/are there
		^is/are/does/do/did/can/am/has the/it/i/my/this/that/dark/an/a/export/einsatz
		^gibt/gibt's/gibts es *2:eine/einen/ein/schon
		^kann/muss/darf/brauche/hab/habe ich
		^ist/sind/wird der/die/das/es/mein/meine/schon
		^unterstützt/funktioniert/geht/läuft/klappt/brauche/braucht/hat
		is/are *3:already/yet
		ist/sind *3:schon
		anyone managed/tried/using/run/running
		quick/kurze q/question/frage
		^do/does/can i/you/it *2:need/use/support/work/run
		what's/whats the status
		wie ist der stand`,
	fHelp: `
		explain/erklären/erklärt/erklären/tell/zeigen *2:me/mir/uns/how/wie
		explain/erklären
		help/helft me/us/pls/plz/please/mir/uns
		^help/hilfe
		need/brauche/brauch help/hilfe
		anyone/someone/somebody/jemand know/knows/weiß/weiss
		weiß/weiss jemand/wer
		i *2:don't/dont *2:understand/get/know
		wish i knew`,
	fHelpAsk: `		any/some help *3:would/appreciated/please/pls/welcome/is
		help would be
		if/when someone/somebody/anyone/anybody/u/you/anybody *2:could/can/would *3:help/explain/tell/point/show/post/paste/give/check/look/confirm/recommend
		can/could/would someone/somebody/anyone/anybody *3:help/explain/tell/point/show/confirm/recommend/suggest/look/give/please
		can/could you/u suggest/recommend/tell/explain/point/show/post/paste/help/give
		point me
		how to *5:configure/set/use/install/get/do/make/fix/find
		walk/guide me *2:through
		if/when you/u/anyone/anybody/someone/somebody have/has/got *3:a/an/the/some/one/any
		any ideas/idea/suggestions/tips/thoughts/pointers
		how/what should i/we
		^should i
		hat/habt jemand/wer/ihr *2:eine/einen/ne/nen *2:idee/tipp/rat
		look/glance at my
		get *4:working/running
		zum laufen/laufen/funktionieren bringen
		wenn/falls mir jemand/wer/einer *5:helfen/erklären/sagen/zeigen/verraten
		kann/könnte/kannst/könntest mir jemand/wer/du/einer *5:helfen/erklären/sagen/zeigen/verraten
		jemand/wer *3:helfen/erklären/tipp/tipps/ahnung
		für hilfe/tipps/hinweise
		hilfe wäre *3:super/toll/nett/schön/willkommen
		give/show/find/tell/send me/us *3:a/an/the/some/all/my/your/connection/list/link/info/information
		gib/gebt/zeig/zeigt/sag/sagt/schick/schickt mir *3:einen/eine/ein/die/den/das/alle/meine/bitte`,
	fPraise: `
		love/loving/loved/lovin/liebe/lieben/great/awesome/amazing/fantastic/excellent/brilliant/gorgeous/impressed/beeindruckt/beeindruckend/kudos/lob/bravo/perfect/perfectly/perfekt/super/genial/spitze/stark/starke/klasse/toll/wow/nice/cool/best/beste/bestes/besten/gold/smooth/snappier/faster/schneller/flotter/schick/gefällt/game/changer/gamechanger/wahnsinn/respekt/👏/clearer/klarer/übersichtlich/exactly/genau
		great/good/nice/awesome/amazing/excellent/starke/tolle/gute job/work/arbeit/release/update
		well done
		läuft wie geschmiert`,
	fThanks: `
		thanks/thank/thx/ty/tysm/danke/dankeschön/merci/cheers/dank`,
	fDone: `
		thanks/thank/danke you *2:for *3:adding/building/the/making/fixing
		thanks/danke für *3:the/den/die/das/adding
		finally *3:added/there/here/shipped/landed
		endlich *3:da/drin/eingebaut
		added/shipped/released/built/eingebaut/hinzugefügt/gebaut/ergänzt/veröffentlicht/gewünscht/wished
		habt/hast/haben *5:eingebaut/hinzugefügt/gebaut/gemacht/umgesetzt
		i/we *2:just/have/already/finally *2:added/set/upgraded/installed/restarted
		hab/habe/haben *4:hinzugefügt/eingebaut/installiert/aktualisiert/gestartet/aufgemacht
		just/gerade *3:added/upgraded/set/restarted/hinzugefügt/aktualisiert/neu`,
	fSocial: `
		add/nehmt/nimm me/mich/us/uns
		me/mich *5:aufnehmen/hinzufügen
		let me know
		sag/sagt bescheid
		love/like/happy/gern/gerne to *2:help/hear/meet/join/chat/contribute
		to/zu hear/hören
		helfe/helfen gern/gerne
		see you/some/all
		wish/wünsch/wünsche *2:you/euch/all/allen
		send me
		schicken/schick
		meetup/meeting/treffen/demo/kaffee/coffee/brb/weekend/wochenende/lol/haha
		share your/deine/eure`,
}

// Verbs that ask for something to be made, English and German (the German
// ones come last in a clause: "könntet ihr … einbauen").
const (
	createEN = `add/adding/support/supporting/implement/build/include/consider/get/have/allow/integrate/give/bring/offer/provide/enable/introduce/ship/expose/create/make/let/extend/port/release/publish`
	createDE = `einbauen/hinzufügen/ergänzen/anbinden/machen/unterstützen/bauen/nachrüsten/anbieten/ermöglichen/integrieren/einführen/umsetzen/implementieren/einrichten/bereitstellen/erweitern/geben/zulassen/dazubauen/reinmachen/reinbauen`
)

// fillers may precede the start of a clause.
var fillers = wordSet(`so ok okay hmm hm also and but und aber na nun btw hey hi hello hallo moin servus yo sorry
	pls plz please bitte guys leute folks oh ah well ehm äh ähm lol ja yes honestly ehrlich seriously really
	just einfach team devs dear liebe`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// step is one position of a pattern.
type step struct {
	gap      int             // words that may come before it
	words    map[string]bool // exact words
	prefixes []string        // word prefixes
}

func (st *step) matches(w []byte) bool {
	if st.words[string(w)] {
		return true
	}
	for _, p := range st.prefixes {
		if len(w) >= len(p) && string(w[:len(p)]) == p {
			return true
		}
	}
	return false
}

// pattern is a compiled phrase pattern; its first step is the index key.
type pattern struct {
	feature int
	atStart bool
	steps   []step // after the first word
}

// match reports whether the pattern matches with its first word at i.
func (p *pattern) match(s *scan.Text, i int) bool {
	return p.matchFrom(s, 0, i)
}

// matchFrom matches steps[k:] after word i.
func (p *pattern) matchFrom(s *scan.Text, k, i int) bool {
	if k == len(p.steps) {
		return true
	}
	st := &p.steps[k]
	for j := i + 1; j <= i+1+st.gap && j < s.NT; j++ {
		if sentenceEnd(s.Toks[j-1].Brk) {
			return false
		}
		if st.matches(s.Word(j)) && p.matchFrom(s, k+1, j) {
			return true
		}
	}
	return false
}

// prefixFeature sets a feature for any word that begins with prefix.
type prefixFeature struct {
	prefix  string
	feature int
}

var (
	patternIndex = map[string][]*pattern{}
	maxFirstLen  int
	// One-word patterns written with "~" (German compounds).
	prefixFeatures []prefixFeature
)

func init() {
	for feature := range numFeatures {
		spec, ok := featurePatterns[feature]
		if !ok {
			continue
		}
		for line := range strings.Lines(spec) {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			p := &pattern{feature: feature}
			if strings.HasPrefix(line, "^") {
				p.atStart = true
				line = line[1:]
			}
			fields := strings.Fields(line)
			for _, fld := range fields[1:] {
				var st step
				if strings.HasPrefix(fld, "*") {
					n, rest, _ := strings.Cut(fld[1:], ":")
					for _, c := range n {
						st.gap = st.gap*10 + int(c-'0')
					}
					fld = rest
				}
				st.words = map[string]bool{}
				for w := range strings.SplitSeq(fld, "/") {
					if strings.HasSuffix(w, "~") {
						st.prefixes = append(st.prefixes, strings.TrimSuffix(w, "~"))
					} else if w != "" {
						st.words[w] = true
					}
				}
				p.steps = append(p.steps, st)
			}
			for w := range strings.SplitSeq(fields[0], "/") {
				if strings.HasSuffix(w, "~") {
					if len(p.steps) > 0 {
						panic("detect: a prefix first word must be a pattern of its own: " + line)
					}
					prefixFeatures = append(prefixFeatures, prefixFeature{strings.TrimSuffix(w, "~"), feature})
					continue
				}
				patternIndex[w] = append(patternIndex[w], p)
				maxFirstLen = max(maxFirstLen, len(w))
			}
		}
	}
}

// notNames are words that may open a message followed by ":" or "," without
// addressing a person ("update: …", "thanks, …").
var notNames = wordSet(`update note edit ps fyi tldr tl;dr idea question frage problem bug thanks thank thx danke merci
	yes yeah yep no nope nah nein jo klar sure right true also wait warte why warum how wie what was
	feature request vorschlag wunsch suggestion proposal anyway anyways sadly leider unfortunately
	first second then dann finally endlich btw imho imo error fehler schade schön naja meh cheers ok okay hmm
	fr wish missing fehlt`)

// participles are past participles "should have" may look back with
// that do not end in "ed", "en" or "wn".
var participles = wordSet(`done had got put set read said made sent thought bought brought taught left kept
	lost found run come gone seen told went did`)

// wishAdjectives end a wish ("would be nice"); bareSubjects may come
// before one that says nothing of what is wished for ("that would be
// nice"); trailers may follow it ("would be nice though").
var (
	wishAdjectives = wordSet(`great nice cool awesome good helpful useful handy lovely fantastic neat perfect super
		amazing brilliant sweet ideal excellent wonderful schön toll klasse praktisch hilfreich nett genial prima gut`)
	bareSubjects = wordSet(`that it this which would 'd it'd that'd also really so still will be sure yes yeah
		ok okay cool well das es dies was echt auch schon`)
	trailers = wordSet(`though tho man dude too indeed anyway lol haha imo really ja auch aber doch eigentlich
		schon halt natürlich trotzdem`)
)
