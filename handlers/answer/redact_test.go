package answer

import "testing"

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text stays", "How do I install Einsatz on Debian 12?", "How do I install Einsatz on Debian 12?"},
		{"email", "mail me at jane.doe+kb@example.co.uk please", "mail me at [email] please"},
		{"mailto", "write to mailto:help@example.org.", "write to mailto:[email]."},
		{"url with @ path stays", "see https://medium.com/@alice/setting-up-bots-123 for it", "see https://medium.com/@alice/setting-up-bots-123 for it"},
		{"url credentials", "clone https://bob:hunter2secret@git.example.org/repo.git", "clone https://bob:[secret]@git.example.org/repo.git"},
		{"url token param", "open https://example.org/cb?state=1&access_token=abcDEF123456&x=2", "open https://example.org/cb?state=1&access_token=[secret]&x=2"},
		{"ssh remote stays", "push to git@github.com:einsatz/einsatz.git", "push to git@github.com:einsatz/einsatz.git"},
		{"german phone", "ruf an: 030 1234567 oder 0151-23456789", "ruf an: [phone] oder [phone]"},
		{"international phone", "call +49 (0)30 1234 5678 today", "call [phone] today"},
		{"us phone", "call (555) 123-4567.", "call [phone]."},
		{"date stays", "since 2024-01-15 and 01.02.2024", "since 2024-01-15 and 01.02.2024"},
		{"version and ip stay", "v1.22.3 on 192.168.0.1:8080", "v1.22.3 on 192.168.0.1:8080"},
		{"openai key", "my key is sk-proj-AbCdEfGhIjKlMnOpQrStUv123456 oops", "my key is [secret] oops"},
		{"slack token", "SLACK_BOT_TOKEN=xoxb-1234567890-abcdefghij", "SLACK_BOT_TOKEN=[secret]"},
		{"github token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "[secret] leaked"},
		{"bearer", "curl -H 'Authorization: Bearer abc.def-ghi_jkl123456'", "curl -H 'Authorization: Bearer [secret]'"},
		{"password key value", `config: password: "hunter22"`, `config: password: "[secret]"`},
		{"jwt", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "token [secret]"},
		{"long hex", "secret 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 here", "secret [secret] here"},
		{"base64 secret", "use dGhpcyBpcyBhIHNlY3JldCB0b2tlbiAxMjM0NTY3ODkw==", "use [secret]"},
		{"long identifier stays", "AbstractSingletonProxyFactoryBean is a class", "AbstractSingletonProxyFactoryBean is a class"},
		{"iban with spaces", "IBAN: DE89 3704 0044 0532 0130 00 and thanks", "IBAN: [iban] and thanks"},
		{"iban compact lower case", "pay to gb82west12345698765432", "pay to [iban]"},
		{"iban bad checksum stays", "DE00 3704 0044 0532 0130 00", "DE00 3704 0044 0532 0130 00"},
		{"iban bad checksum in a sentence stays", "IBAN DE00 3704 0044 0532 0130 00 and call 0151 23456789", "IBAN DE00 3704 0044 0532 0130 00 and call [phone]"},
		{"not an iban, phone still found", "see DE12 or 0151 23456789", "see DE12 or [phone]"},
		{"card with dashes", "card 4111-1111-1111-1111 expired", "card [card] expired"},
		{"card with spaces", "4242 4242 4242 4242", "[card]"},
		{"card failing luhn stays", "order 4111-1111-1111-1112 shipped", "order 4111-1111-1111-1112 shipped"},
		{"long number failing luhn stays", "ticket 1234567890123 closed", "ticket 1234567890123 closed"},
		{"several", "I'm bob@example.com, +44 20 7946 0958, key sk-abcdefghijklmnop1234", "I'm [email], [phone], key [secret]"},
		{"international phone compact", "reach me on +4917012345678 tonight", "reach me on [phone] tonight"},
		{"international phone compact, US", "text +14155550123.", "text [phone]."},
		{"password in a sentence", "my password is hunter2 but it fails", "my password is [secret] but it fails"},
		{"password in a sentence, end", "My password is hunter2.", "My password is [secret]."},
		{"Passwort im Satz", "mein Passwort ist hunter2, geht nicht", "mein Passwort ist [secret], geht nicht"},
		{"Kennwort lautet", "das Kennwort lautet Sommer2024!", "das Kennwort lautet [secret]!"},
		{"password talk stays", "my password is not accepted", "my password is not accepted"},
		{"Passwort-Gerede bleibt", "Mein Passwort ist abgelaufen", "Mein Passwort ist abgelaufen"},
		{"quoted password", `the password is "s3cret!" now`, `the password is "[secret]" now`},
		{"zero-width email", "mail jane\u200b.doe@\u200bexample\u200d.com now", "mail [email] now"},
		{"soft hyphen and word joiner email", "bob\u00ad@exam\u2060ple.org", "[email]"},
		{"fullwidth at email", "bob\uff20example.org", "[email]"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactIsIdempotent(t *testing.T) {
	in := "bob@example.com DE89 3704 0044 0532 0130 00 4111 1111 1111 1111 +49 30 1234567 sk-abcdefghijklmnop1234"
	once := Redact(in)
	if twice := Redact(once); twice != once {
		t.Fatalf("Redact(Redact(x)) = %q, want %q", twice, once)
	}
}
