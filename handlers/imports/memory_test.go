package imports_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/handlers/imports"
)

// writeDiscordExport writes a DiscordChatExporter file of n messages in
// its real shape (authors with avatars and roles, reactions, mentions)
// and returns its size.
func writeDiscordExport(t testing.TB, file string, n int) int64 {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprint(w, `{"guild":{"id":"1","name":"Community","iconUrl":"https://cdn.discordapp.com/icons/1/a.png"},`+
		`"channel":{"id":"10","type":"GuildTextChat","categoryId":"5","category":"Text","name":"general","topic":null},`+
		`"dateRange":{"after":null,"before":null},"exportedAt":"2026-11-30T10:00:00+00:00","messages":[`)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		if i > 0 {
			w.WriteString(",")
		}
		ref := ""
		if i%5 == 4 {
			ref = fmt.Sprintf(`,"reference":{"messageId":"%d","channelId":"10","guildId":"1"}`, 1000000+i-1)
		}
		fmt.Fprintf(w, `{"id":"%d","type":"%s","timestamp":"%s","timestampEdited":null,"callEndedTimestamp":null,"isPinned":false,`+
			`"content":"Message %d: could you add a dark mode to the dashboard, and maybe an export? It would help us a lot.",`+
			`"author":{"id":"%d","name":"user%d","discriminator":"0000","nickname":"User %d","color":"#3498DB","isBot":false,`+
			`"roles":[{"id":"77","name":"Member","color":null,"position":1}],"avatarUrl":"https://cdn.discordapp.com/avatars/%d/abcdef.png?size=512"},`+
			`"attachments":[],"embeds":[],"stickers":[],"reactions":[{"emoji":{"id":"","name":"👍","code":"thumbsup","isAnimated":false,"imageUrl":"https://twemoji.maxcdn.com/2/svg/1f44d.svg"},"count":2,"users":[]}],"mentions":[]%s}`,
			1000000+i, map[bool]string{true: "Reply", false: "Default"}[ref != ""], t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339),
			i, 500+i%300, i%300, i%300, 500+i%300, ref)
	}
	fmt.Fprintf(w, `],"messageCount":%d}`, n)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return info.Size()
}

// allocated returns the bytes allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Imports run inside the live bot: reading an export must cost memory in
// proportion to the messages kept, not hold the whole file (and its
// decoded copy) besides. A 400 MB Discord export once took the server to
// 2 GB.
func TestReadDiscordAllocatesInProportion(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 50 MB export")
	}
	file := filepath.Join(t.TempDir(), "big.json")
	size := writeDiscordExport(t, file, 64_000)
	var ex *imports.Export
	var err error
	alloc := allocated(func() { ex, err = imports.ReadDiscord(file) })
	if err != nil {
		t.Fatal(err)
	}
	if ex.Summary.Messages != 64_000 {
		t.Fatalf("read %d messages", ex.Summary.Messages)
	}
	ratio := float64(alloc) / float64(size)
	t.Logf("export %.1f MB: %.1f MB allocated (%.2f× the file)", float64(size)/1e6, float64(alloc)/1e6, ratio)
	// What is kept is a bot.Event per message (480 bytes besides its
	// strings), briefly twice while the chunks become one slice; reading
	// the file whole and appending to one slice took 6.3×.
	if ratio > 2.5 {
		t.Errorf("reading allocated %.2f× the export's size, want at most 2.5×", ratio)
	}
}

// zipBomb writes a Slack export whose one day file is a JSON array holding
// nothing but spaces, uncompressed size bytes of them, from a few hundred
// kilobytes of zip: each stored deflate block repeats the first.
func zipBomb(t *testing.T, file string, size int64) {
	t.Helper()
	const chunk = 1 << 20
	spaces := bytes.Repeat([]byte(" "), chunk)
	var block bytes.Buffer
	fw, _ := flate.NewWriter(&block, flate.BestCompression)
	fw.Write(spaces)
	fw.Flush() // a non-final block that refers only to itself
	var end bytes.Buffer
	fw, _ = flate.NewWriter(&end, flate.BestCompression)
	fw.Write([]byte("]"))
	fw.Close()
	var first bytes.Buffer
	fw, _ = flate.NewWriter(&first, flate.BestCompression)
	fw.Write([]byte("["))
	fw.Flush()

	crc := crc32.Update(0, crc32.IEEETable, []byte("["))
	n := size / chunk
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, spaces)
	}
	crc = crc32.Update(crc, crc32.IEEETable, []byte("]"))

	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	add("channels.json", `[{"id":"C1","name":"general"}]`)
	add("users.json", `[]`)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "general/2026-11-01.json", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(first.Len()) + uint64(n)*uint64(block.Len()) + uint64(end.Len()), UncompressedSize64: uint64(n*chunk + 2)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(first.Bytes())
	for range n {
		w.Write(block.Bytes())
	}
	w.Write(end.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// A zip bomb (a small zip that expands to a huge file) is refused with the
// file named, after reading no more than the limit of one JSON value.
func TestReadSlackZipBomb(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bomb.zip")
	zipBomb(t, file, 256<<20)
	info, _ := os.Stat(file)
	var err error
	alloc := allocated(func() { _, err = imports.ReadSlack(file) })
	t.Logf("zip %d KB expanding to 256 MB: %.1f MB allocated, error %v", info.Size()>>10, float64(alloc)/1e6, err)
	if err == nil || !strings.Contains(err.Error(), "general/2026-11-01.json") || !strings.Contains(err.Error(), "MB") {
		t.Errorf("error = %v, want one naming general/2026-11-01.json and the limit", err)
	}
	if alloc > 64<<20 {
		t.Errorf("reading the bomb allocated %.0f MB, want at most 64", float64(alloc)/1e6)
	}
}
