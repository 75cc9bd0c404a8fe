package answer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRedact checks Redact on any text: it is idempotent, keeps valid
// UTF-8 valid, and never lets through an e-mail address or a phone number
// planted in the text on a line of its own.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"How do I install Einsatz on Debian 12?",
		"mail me at jane.doe+kb@example.co.uk or call +49 (0)30 1234 5678",
		"clone https://bob:hunter2secret@git.example.org/repo.git?token=abc123456",
		"IBAN DE89 3704 0044 0532 0130 00, card 4111-1111-1111-1111, 0151-23456789",
		"Authorization: Bearer abc.def-ghi_jkl123456 password: \"hunter22\" sk-proj-AbCdEfGhIjKlMnOpQrStUv123456",
		"DE00 3704 0044 0532 0130 00 \U000F0000 \U000F0001",
		"see https://medium.com/@alice and git@github.com:einsatz/einsatz.git v1.22.3 192.168.0.1:8080 2024-01-15",
	} {
		f.Add(s, "")
		f.Add(s, s)
	}
	const mail, phone = "jane.doe@example.org", "+49 30 1234567"
	f.Fuzz(func(t *testing.T, before, after string) {
		for _, in := range []string{before, before + "\nMail: " + mail + "\nTel: " + phone + "\n" + after} {
			once := Redact(in)
			if twice := Redact(once); twice != once {
				t.Fatalf("not idempotent on %q:\nonce  %q\ntwice %q", in, once, twice)
			}
			if utf8.ValidString(in) && !utf8.ValidString(once) {
				t.Fatalf("Redact(%q) = %q: not valid UTF-8", in, once)
			}
		}
		// The fuzzed text may hold the same characters (not as a phone
		// number): the planted ones, at least, are gone.
		in := before + "\nMail: " + mail + "\nTel: " + phone + "\n" + after
		out := Redact(in)
		for _, planted := range []string{mail, "1234567"} {
			if strings.Count(out, planted) >= strings.Count(in, planted) {
				t.Fatalf("planted %q left in %q", planted, out)
			}
		}
	})
}
