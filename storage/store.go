// Package storage keeps Einsatz's data in an embedded Badger database behind
// typed methods. All writes go through one committer goroutine that groups
// concurrent writes into one transaction and one fsync (group commit): a
// durable write method returns only after the batch holding its record is
// on disk. Batches holding only writes nobody waits to be durable are
// committed without an fsync; the next durable batch's fsync covers them.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/einsatz/einsatz/bot"
)

// Errors for expected states.
var (
	ErrClosed       = errors.New("storage: closed")
	ErrLocked       = errors.New("storage: database is in use by another process")
	ErrNewerSchema  = errors.New("storage: database was written by a newer einsatz")
	ErrNotWritable  = errors.New("storage: data directory is not writable")
	ErrCorrupt      = errors.New("storage: database cannot be opened")
	errTooBigForTxn = badger.ErrTxnTooBig
)

// SchemaVersion is the layout this build reads and writes.
const SchemaVersion = 1

// Migration moves a database from schema From to From+1.
type Migration struct {
	From  int
	Apply func(txn *badger.Txn) error
}

// Options configure Open.
type Options struct {
	Path         string        // data directory; ignored when InMemory
	InMemory     bool          // tests: nothing touches the disk
	MessageTTL   time.Duration // retention of raw messages (thread history); default 30 days
	SentimentTTL time.Duration // retention of sentiment rows (aggregates stay); default 90 days
	AuditTTL     time.Duration // retention of the audit log; default 365 days
	FeedbackTTL  time.Duration // retention of questions, ratings and drafts; default 90 days
	Logger       *slog.Logger
	MaxBatch     int // writes grouped into one commit at most; default 256
	// HistoryCache is how many threads keep their recent turns in memory,
	// so the history handed to every handler is not read from disk each
	// time; default 4096.
	HistoryCache int

	// schemaVersion and migrations are set by tests to exercise migrations.
	schemaVersion int
	migrations    []Migration
}

// Store is the database. It is safe for concurrent use.
type Store struct {
	db   *badger.DB
	opts Options
	// syncDisk makes a committed batch durable: db.Sync, the one fsync per
	// batch. Tests replace it to make the disk slow.
	syncDisk func() error
	// syncGap is the least time between the end of one fsync and the start
	// of the next (see commitLoop); lastSync is when the last one ended.
	// Only the committer touches lastSync.
	syncGap  time.Duration
	lastSync time.Time
	log      *slog.Logger
	seq      atomic.Uint32

	// recent caches the last turns of busy threads. cacheMu orders cache
	// fills from disk against updates after commits, so a fill never
	// caches a list that misses a turn committed meanwhile.
	recent  *lru.Cache[string, []bot.Turn]
	cacheMu sync.Mutex

	ownersMu sync.RWMutex
	owners   map[string]ownerRecord // staff-owned threads by thread key

	// finished holds unfinished/ keys to delete (Finish); one queued write
	// (finishing) deletes all that gathered by the time it runs.
	finMu     sync.Mutex
	finished  [][]byte
	finishing bool

	// spill is where a read of kept events starts (see Spilled).
	spill spillCursor

	// dirty is set when a batch committed writes that no fsync has covered
	// yet (a batch of writes nobody waits to be durable); only the
	// committer goroutine touches it.
	dirty bool
	// lastTs is Badger's read timestamp after the last batch: a batch that
	// leaves it unchanged committed no write.
	lastTs uint64
	// stats counts the committer's work (WriteStats).
	stats struct{ writes, durable, batches, txns, syncs atomic.Int64 }

	// ops is buffered so a write that need not wait (AppendTurn) costs no
	// batch cycle; order is kept, since one goroutine commits in FIFO order.
	// closing guards sends against Close: senders hold it for reading.
	ops     chan *op
	closing sync.RWMutex
	closed  bool
	quit    chan struct{}
	stopped chan struct{}
	close   sync.Once
}

type op struct {
	fn     func(txn *badger.Txn) error
	after  func()          // runs once the write is committed (and durable, when durable)
	failed func(err error) // for writes nobody waits for
	done   chan error
	// durable: the batch holding this write is fsynced before the writer
	// is answered. Without it the write is committed (visible to every
	// later read) and reaches the disk with the next durable batch's fsync.
	durable bool
	// force: fsync even when no write since the last fsync needs it (Sync).
	force bool
}

// WriteStats counts what the committer did since Open.
type WriteStats struct {
	Writes  int64 // write functions run (one per commit, commitLater, Sync …)
	Durable int64 // of those, the ones whose writer waited for the fsync
	Batches int64 // batches: writes gathered and applied together
	Txns    int64 // Badger transactions committed
	Syncs   int64 // fsyncs (DB.Sync)
}

// WriteStats returns the committer's counts.
func (s *Store) WriteStats() WriteStats {
	return WriteStats{
		Writes:  s.stats.writes.Load(),
		Durable: s.stats.durable.Load(),
		Batches: s.stats.batches.Load(),
		Txns:    s.stats.txns.Load(),
		Syncs:   s.stats.syncs.Load(),
	}
}

// Open opens (or creates) the database, checks its schema version and
// migrates it, with a backup first, when it is older.
func Open(opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MessageTTL <= 0 {
		opts.MessageTTL = 30 * 24 * time.Hour
	}
	if opts.SentimentTTL <= 0 {
		opts.SentimentTTL = 90 * 24 * time.Hour
	}
	if opts.AuditTTL <= 0 {
		opts.AuditTTL = 365 * 24 * time.Hour
	}
	if opts.FeedbackTTL <= 0 {
		opts.FeedbackTTL = 90 * 24 * time.Hour
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.HistoryCache <= 0 {
		opts.HistoryCache = 4096
	}
	if opts.schemaVersion == 0 {
		opts.schemaVersion = SchemaVersion
	}
	bopts := badger.DefaultOptions(opts.Path)
	if opts.InMemory {
		bopts = badger.DefaultOptions("").WithInMemory(true)
	} else if err := checkWritable(opts.Path); err != nil {
		return nil, err
	}
	// Small memtables and caches: a community bot's working set is small,
	// and the defaults reserve ~90 MB at open (see docs/storage.md). 4 MB
	// memtables rather than 8: each is a heap arena, a flush builds its
	// table in heap buffers, and the log is a mapped file of twice the
	// size; at 300 msg/s in the load harness peak RSS fell from 148 to
	// 111–114 MB, CPU alike. A transaction then holds at most 600 kB, so
	// writes of many records go in pages (maxWriteBytes). No
	// block compression and tables of one size at every level: a
	// compaction runs up to 13 table builders at once, each holding its
	// blocks and their compressed copies, and with tables doubling per
	// level they grew with the database (BenchmarkSoak: 136 MB of the heap
	// at 100k messages, 352 MB at 180k; at most 80 MB like this over 417k).
	// Without compression reads come straight from the mapped tables, so
	// no block cache; the price is about twice the disk. Tables written
	// compressed by earlier versions stay readable (each keeps its
	// compression in the manifest).
	bopts = bopts.
		WithLogger(badgerLogger{opts.Logger}).
		WithSyncWrites(false). // the committer syncs once per batch
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(8).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(4 << 20).
		WithValueLogFileSize(32 << 20).
		// A transaction holds at most 15% of a memtable (600 kB); Badger
		// wants values kept in the tree to fit in one.
		WithValueThreshold(512 << 10).
		WithNumCompactors(2)
	bopts.TableSizeMultiplier = 1
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, explainOpenError(opts.Path, err)
	}
	recent, err := lru.New[string, []bot.Turn](opts.HistoryCache)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: history cache: %w", err)
	}
	s := &Store{
		db:       db,
		syncDisk: db.Sync,
		syncGap:  syncGap,
		recent:   recent,
		opts:     opts,
		log:      opts.Logger,
		ops:      make(chan *op, opts.MaxBatch),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	if err := s.checkSchema(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadOwners(); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: reading thread owners: %v", ErrCorrupt, err)
	}
	s.lastTs = s.readTs()
	go s.commitLoop()
	return s, nil
}

func checkWritable(path string) error {
	if path == "" {
		return fmt.Errorf("%w: storage.path is empty", ErrNotWritable)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("%w: %v (set storage.path or EINSATZ_DATA to a directory you can write)", ErrNotWritable, err)
	}
	f, err := os.CreateTemp(path, ".write-test-*")
	if err != nil {
		return fmt.Errorf("%w: %s: %v (fix its permissions, or set storage.path or EINSATZ_DATA)", ErrNotWritable, path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func explainOpenError(path string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Cannot acquire directory lock"):
		return fmt.Errorf("%w: %s (is einsatz already running? stop it, or use its admin API)", ErrLocked, path)
	case strings.Contains(msg, "permission denied"):
		return fmt.Errorf("%w: %s: %v", ErrNotWritable, path, err)
	default:
		return fmt.Errorf("%w: %s: %v (restore a backup with 'einsatz restore', or move the directory away to start empty)", ErrCorrupt, path, err)
	}
}

// Close waits for pending writes, then closes the database.
func (s *Store) Close() error {
	var err error
	s.close.Do(func() {
		s.closing.Lock()
		s.closed = true
		s.closing.Unlock()
		close(s.quit)
		<-s.stopped
		w := s.WriteStats()
		s.log.Info("storage: closed", "writes", w.Writes, "durable", w.Durable, "batches", w.Batches, "transactions", w.Txns, "fsyncs", w.Syncs)
		err = s.db.Close()
	})
	return err
}

// commit runs fn in the next batch and returns once that batch is synced.
// fn must check before it writes: when it returns an error it must not have
// written anything, since its batch is committed all the same.
func (s *Store) commit(ctx context.Context, fn func(txn *badger.Txn) error) error {
	return s.commitThen(ctx, fn, nil)
}

// commitThen is commit with a function that runs after the write is durable
// (and only if it succeeded), before commitThen returns.
func (s *Store) commitThen(ctx context.Context, fn func(txn *badger.Txn) error, after func()) error {
	return s.wait(ctx, &op{fn: fn, after: after, done: make(chan error, 1), durable: true})
}

// commitVisible runs fn in the next batch and returns once that batch is
// committed, without waiting for its fsync: every later read sees the
// write, and it reaches the disk with the next durable batch (or when the
// operating system writes the memory-mapped log back). A SIGKILL does not
// lose it (the log pages belong to the kernel once committed); a power
// loss before the next fsync may. For records written after a reply went
// out, whose loss only makes the resume path do its idempotent work, and
// side records nobody was told were saved (docs/storage.md).
func (s *Store) commitVisible(ctx context.Context, fn func(txn *badger.Txn) error) error {
	return s.wait(ctx, &op{fn: fn, done: make(chan error, 1)})
}

func (s *Store) wait(ctx context.Context, o *op) error {
	if err := s.enqueue(ctx, o); err != nil {
		return err
	}
	// Once handed over the write will happen; wait for it regardless of ctx
	// so the caller never acts on a write that is not yet durable.
	return <-o.done
}

// Sync returns once every write queued before it is on disk.
func (s *Store) Sync(ctx context.Context) error {
	return s.wait(ctx, &op{fn: func(*badger.Txn) error { return nil }, done: make(chan error, 1), durable: true, force: true})
}

// commitLater queues a write and returns without waiting for it; the write
// is committed in order with every later one and reaches the disk with the
// next durable batch's fsync (see commitVisible). A failure is logged.
func (s *Store) commitLater(ctx context.Context, what string, fn func(txn *badger.Txn) error, after func()) error {
	o := &op{fn: fn, after: after, done: make(chan error, 1)}
	o.failed = func(err error) { s.log.Error("storage: background write failed", "write", what, "err", err) }
	return s.enqueue(ctx, o)
}

func (s *Store) enqueue(ctx context.Context, o *op) error {
	s.closing.RLock()
	defer s.closing.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.ops <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// holdQueued is how long writes nobody waits for (commitLater) are held
// back at most, to go with the next batch that has a writer waiting rather
// than cost a Badger transaction of their own.
const holdQueued = 5 * time.Millisecond

func (s *Store) commitLoop() {
	defer close(s.stopped)
	var held []*op               // queued writes waiting for company
	var holdEnd <-chan time.Time // when held writes go alone
	for {
		batch := held
		held = nil
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-holdEnd:
			holdEnd = nil
			s.flush(batch)
			continue
		case <-s.quit:
			// Close has stopped new sends: commit what is still queued.
			for {
				select {
				case o := <-s.ops:
					batch = append(batch, o)
				default:
					if len(batch) > 0 {
						s.flush(batch)
					}
					if s.dirty && !s.opts.InMemory {
						// The queued writes nobody waited for go to disk
						// before Badger closes.
						s.stats.syncs.Add(1)
						if err := s.syncDisk(); err != nil {
							s.log.Error("storage: sync at close failed", "err", err)
						}
					}
					return
				}
			}
		}
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break gather
			}
		}
		if len(batch) < s.opts.MaxBatch && nobodyWaits(batch) {
			// Hold them for the next write someone waits for (at load,
			// the next event's acceptance, a few milliseconds away).
			held = batch
			if holdEnd == nil {
				holdEnd = time.After(holdQueued)
			}
			continue
		}
		holdEnd = nil
		if wait := s.syncWait(batch); wait > 0 {
			batch = s.gatherFor(batch, wait)
		}
		s.flush(batch)
	}
}

// syncGap spaces fsyncs: a durable batch that comes less than syncGap after
// the last fsync ended waits for the rest of the gap, gathering the writes
// that arrive meanwhile into its one fsync. An fsync costs this process
// about 0.3 ms of CPU here (BenchmarkPipelinePaced's raw Badger writer),
// more than the rest of an event's writes; at a few hundred events a
// second, where fsyncs are fast, each durable write got one of its own.
// A write that finds the disk idle for syncGap is synced at once, so a
// quiet bot answers as fast as before; at load a durable write waits at
// most syncGap longer.
const syncGap = 5 * time.Millisecond

// syncWait is how long a batch that is about to be flushed waits for
// company: the rest of syncGap when the batch will fsync and the last
// fsync ended less than syncGap ago; else 0.
func (s *Store) syncWait(batch []*op) time.Duration {
	if s.opts.InMemory || s.syncGap <= 0 || len(batch) >= s.opts.MaxBatch || s.lastSync.IsZero() {
		return 0
	}
	durable := false
	for _, o := range batch {
		if o.force {
			return 0
		}
		durable = durable || o.durable
	}
	if !durable {
		return 0
	}
	return s.syncGap - time.Since(s.lastSync)
}

// gatherFor adds the writes that arrive within d (up to MaxBatch) to batch.
func (s *Store) gatherFor(batch []*op, d time.Duration) []*op {
	t := time.NewTimer(d)
	defer t.Stop()
	for len(batch) < s.opts.MaxBatch {
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-t.C:
			return batch
		case <-s.quit:
			return batch // Close: commit now; the loop sees quit next
		}
	}
	return batch
}

// nobodyWaits reports whether every write in batch was queued without a
// writer waiting for it (commitLater).
func nobodyWaits(batch []*op) bool {
	for _, o := range batch {
		if o.failed == nil {
			return false
		}
	}
	return true
}

// flush applies a batch in as few transactions as fit, syncs once when a
// write in it is durable (that fsync also covers every earlier batch that
// did not sync), and answers every writer. A committed transaction never holds writes of an op
// that failed: when an op fails (or does not fit), the transaction is
// dropped and the ops that had succeeded in it are applied again to a fresh
// one — they only read committed state, so a second run writes the same.
func (s *Store) flush(batch []*op) {
	errs := make([]error, len(batch))
	var seg []int // ops whose writes txn holds
	txn := s.db.NewTransaction(true)
	// rebuild replaces txn with a fresh one holding the writes of seg.
	rebuild := func() {
		txn.Discard()
		for {
			txn = s.db.NewTransaction(true)
			ok := seg[:0:0]
			failed := false
			for _, j := range seg {
				if err := runOp(batch[j].fn, txn); err != nil {
					errs[j], failed = err, true
					continue
				}
				ok = append(ok, j)
			}
			if !failed {
				seg = ok
				return
			}
			txn.Discard()
			seg = ok
		}
	}
	commit := func() {
		if len(seg) == 0 {
			txn.Discard()
			return
		}
		if err := txn.Commit(); err != nil {
			for _, j := range seg {
				errs[j] = fmt.Errorf("storage: commit: %w", err)
			}
		}
		seg = nil
	}
	for i, o := range batch {
		err := runOp(o.fn, txn)
		switch {
		case err == nil:
			seg = append(seg, i)
		case errors.Is(err, errTooBigForTxn) && len(seg) > 0:
			// The transaction is full: commit what fits, then op i alone.
			rebuild()
			commit()
			txn = s.db.NewTransaction(true)
			if err := runOp(o.fn, txn); err != nil {
				errs[i] = err
				txn.Discard()
				txn = s.db.NewTransaction(true)
			} else {
				seg = []int{i}
			}
		default:
			errs[i] = err
			rebuild()
		}
	}
	commit()
	// A transaction that wrote anything moved the read timestamp on; even
	// a failed commit may have written part of the log. Either way the
	// next durable batch syncs it.
	if ts := s.readTs(); ts != s.lastTs {
		s.dirty = true
		s.stats.txns.Add(int64(ts - s.lastTs)) // one timestamp per write transaction
		s.lastTs = ts
	}
	s.stats.batches.Add(1)
	s.stats.writes.Add(int64(len(batch)))
	durable, force := false, false
	for _, o := range batch {
		if o.durable {
			durable = true
			s.stats.durable.Add(1)
		}
		force = force || o.force
	}
	var syncErr error
	if durable && (s.dirty || force) && !s.opts.InMemory {
		s.stats.syncs.Add(1)
		syncErr = s.syncDisk()
		s.lastSync = time.Now()
		if syncErr == nil {
			s.dirty = false
		}
	}
	for i, o := range batch {
		if errs[i] == nil && syncErr != nil {
			errs[i] = fmt.Errorf("storage: sync: %w", syncErr)
		}
		if errs[i] == nil && o.after != nil {
			o.after()
		}
		if errs[i] != nil && o.failed != nil {
			o.failed(errs[i])
		}
		o.done <- errs[i]
	}
}

// readTs is the timestamp a read would see now: it grows with every
// committed transaction that wrote something.
func (s *Store) readTs() uint64 {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return txn.ReadTs()
}

// runOp runs one write function; a panic in it becomes its error, so one
// bad write cannot stop the committer (and with it every write).
func runOp(fn func(*badger.Txn) error, txn *badger.Txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage: write panicked: %v", r)
		}
	}()
	return fn(txn)
}

// view runs a read-only transaction; after Close it returns ErrClosed
// (Badger itself would panic). Holding the read lock keeps Close from
// closing the database under a running read.
func (s *Store) view(fn func(txn *badger.Txn) error) error {
	s.closing.RLock()
	defer s.closing.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return s.db.View(fn)
}

// badgerLogger sends Badger's logs to slog; its info lines are debug to us.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}
func (l badgerLogger) Infof(f string, a ...any)  { l.debug(f, a) }
func (l badgerLogger) Debugf(f string, a ...any) { l.debug(f, a) }

// debug formats only when debug lines are logged: Badger writes one for
// every batch of writes.
func (l badgerLogger) debug(f string, a []any) {
	if !l.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}

// backupPath names the automatic backup taken before a migration.
func backupPath(dbPath string, from int, now time.Time) string {
	clean := filepath.Clean(dbPath)
	return fmt.Sprintf("%s.backup-schema-v%d-%s", clean, from, now.UTC().Format("20060102T150405Z"))
}

// Store is the core's storage.
var _ bot.Store = (*Store)(nil)
