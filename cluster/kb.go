package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/kb"
)

// KBBucket is the object store bucket holding the knowledge base: one
// object per document, named by its source, with the document record and
// its chunks. A removed document leaves the bucket's delete marker, so a
// node that was down while it was removed removes it too.
const KBBucket = "einsatz_kb"

const (
	kbHashKey = "einsatz_hash" // object metadata: sha256 of the object's data
	kbQuiet   = 100 * time.Millisecond
)

// Index is the local search index a node rebuilds from its own store when
// the shared knowledge base changed (knowledge.Base.Refresh).
type Index interface {
	Refresh(ctx context.Context) error
}

// KB is the knowledge base shared through the object store. Its Store
// writes to the node's local store and puts each change in the bucket;
// Run follows the bucket, applies what other nodes put there to the local
// store and rebuilds the local index. Searches stay local: no JetStream
// operation on the event path.
type KB struct {
	local kb.Store
	obj   jetstream.ObjectStore
	log   *slog.Logger
	clock bot.Clock

	mu    sync.Mutex
	known map[string]string // source → hash of what the local store holds as in the bucket ("" for a delete marker)
	ready chan struct{}     // closed once the bucket's state was applied at start
}

type kbRecord struct {
	Doc    kb.Doc     `json:"doc"`
	Chunks []kb.Chunk `json:"chunks"`
}

// KB opens (creating it if missing) the shared knowledge base over the
// node's local store.
func (n *Node) KB(ctx context.Context, local kb.Store) (*KB, error) {
	var obj jetstream.ObjectStore
	var err error
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		obj, err = n.js.CreateOrUpdateObjectStore(actx, jetstream.ObjectStoreConfig{Bucket: KBBucket, Replicas: n.s.Replicas, Storage: jetstream.FileStorage})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: create %s: %w (last: %v)", KBBucket, ctx.Err(), err)
		case <-n.clock.After(200 * time.Millisecond):
		}
	}
	return &KB{local: local, obj: obj, log: n.log.With("part", "kb"), clock: n.clock, known: map[string]string{}, ready: make(chan struct{})}, nil
}

// Store is the store to give the knowledge base (knowledge.NewBase): the
// local store, with every change put in the bucket. It keeps vectors
// (locally: each node embeds its own chunks) when the local store does.
func (k *KB) Store() kb.Store {
	s := &sharedStore{k: k}
	if vs, ok := k.local.(kb.VectorStore); ok {
		return sharedVectorStore{sharedStore: s, VectorStore: vs}
	}
	return s
}

// Ready is closed once the bucket's state at start was applied to the
// local store and the index rebuilt.
func (k *KB) Ready() <-chan struct{} { return k.ready }

type sharedStore struct{ k *KB }

type sharedVectorStore struct {
	*sharedStore
	kb.VectorStore
}

func (s *sharedStore) Docs(ctx context.Context) ([]kb.Doc, error)     { return s.k.local.Docs(ctx) }
func (s *sharedStore) Chunks(ctx context.Context) ([]kb.Chunk, error) { return s.k.local.Chunks(ctx) }

// PutDoc stores a document locally and puts it in the bucket. A record
// without chunks (a touched file: only its modification time changed)
// stays local: the content the other nodes hold is the same.
func (s *sharedStore) PutDoc(ctx context.Context, doc kb.Doc, chunks []kb.Chunk) error {
	if err := s.k.local.PutDoc(ctx, doc, chunks); err != nil {
		return err
	}
	if chunks == nil {
		return nil
	}
	return s.k.publish(ctx, kbRecord{Doc: doc, Chunks: chunks})
}

// DeleteDoc removes a document locally and from the bucket.
func (s *sharedStore) DeleteDoc(ctx context.Context, source string) error {
	if err := s.k.local.DeleteDoc(ctx, source); err != nil {
		return err
	}
	s.k.mu.Lock()
	s.k.known[source] = ""
	s.k.mu.Unlock()
	if err := s.k.obj.Delete(ctx, source); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("cluster: knowledge document %s removed on this node only: %w", source, err)
	}
	return nil
}

func (k *KB) publish(ctx context.Context, rec kbRecord) error {
	data, err := encode(rec)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	k.mu.Lock()
	k.known[rec.Doc.Source] = hash // our own put, coming back from the watcher, is not applied again
	k.mu.Unlock()
	meta := jetstream.ObjectMeta{Name: rec.Doc.Source, Metadata: map[string]string{kbHashKey: hash}}
	if _, err := k.obj.Put(ctx, meta, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("cluster: knowledge document %s stored on this node only: %w", rec.Doc.Source, err)
	}
	return nil
}

// Run follows the bucket until ctx ends: it applies the documents other
// nodes put or removed to the local store and rebuilds index once the
// changes of a burst are in. At start it first applies the bucket's whole
// state; documents the local store holds that the bucket never had (a
// node's knowledge base from before it joined) are put in the bucket.
func (k *KB) Run(ctx context.Context, index Index) error {
	w, err := k.obj.Watch(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch %s: %w", KBBucket, err)
	}
	defer func() { _ = w.Stop() }()
	seen := map[string]bool{} // names in the bucket (delete markers too), until the start is done
	starting := true
	dirty := false
	var quiet <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-quiet:
			quiet = nil
			if dirty {
				dirty = false
				if err := index.Refresh(ctx); err != nil && ctx.Err() == nil {
					k.log.Error("knowledge: rebuilding the index after a change from the cluster", "err", err)
				}
			}
		case info, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("cluster: knowledge watcher closed")
			}
			if info == nil { // the bucket's state at start is in
				if starting {
					starting = false
					if err := k.seedRetrying(ctx, seen); err != nil && ctx.Err() == nil {
						k.log.Error("knowledge: putting this node's documents in the cluster's bucket", "err", err)
					}
					if err := index.Refresh(ctx); err != nil && ctx.Err() == nil {
						k.log.Error("knowledge: rebuilding the index from the cluster's bucket", "err", err)
					}
					dirty = false
					close(k.ready)
				}
				continue
			}
			if starting {
				seen[info.Name] = true
			}
			changed, err := k.applyRetrying(ctx, info)
			if err != nil {
				k.log.Error("knowledge: applying a change from the cluster", "source", info.Name, "err", err)
				continue
			}
			if changed {
				dirty = true
				if !starting {
					quiet = k.clock.After(kbQuiet)
				}
			}
		}
	}
}

// errUndecodable is an object that is no knowledge document record.
var errUndecodable = errors.New("undecodable")

// applyRetrying applies a change, trying again while reading the object
// or writing the local store fails (the bucket may be electing a leader
// after a node died): a change skipped would leave this node's index
// behind the others' until the document changes again.
func (k *KB) applyRetrying(ctx context.Context, info *jetstream.ObjectInfo) (bool, error) {
	wait := 250 * time.Millisecond
	for {
		changed, err := k.apply(ctx, info)
		if err == nil || errors.Is(err, errUndecodable) || ctx.Err() != nil {
			return changed, err
		}
		k.log.Warn("knowledge: applying a change from the cluster; trying again", "source", info.Name, "err", err)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-k.clock.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// apply brings the local store in step with one object of the bucket;
// false when the local store held it already.
func (k *KB) apply(ctx context.Context, info *jetstream.ObjectInfo) (bool, error) {
	hash := ""
	if !info.Deleted {
		hash = info.Metadata[kbHashKey]
	}
	k.mu.Lock()
	have, ok := k.known[info.Name]
	k.mu.Unlock()
	if ok && have == hash {
		return false, nil
	}
	if info.Deleted {
		if err := k.local.DeleteDoc(ctx, info.Name); err != nil {
			return false, err
		}
	} else {
		data, err := k.obj.GetBytes(ctx, info.Name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return false, nil // removed meanwhile: its delete marker follows
		}
		if err != nil {
			return false, err
		}
		var rec kbRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return false, fmt.Errorf("%w: %w", errUndecodable, err)
		}
		if rec.Chunks == nil {
			rec.Chunks = []kb.Chunk{} // an empty document, not a touch
		}
		if err := k.local.PutDoc(ctx, rec.Doc, rec.Chunks); err != nil {
			return false, err
		}
		sum := sha256.Sum256(data)
		hash = hex.EncodeToString(sum[:])
	}
	k.mu.Lock()
	k.known[info.Name] = hash
	k.mu.Unlock()
	return true, nil
}

// seedRetrying seeds, trying again while the bucket refuses writes (at a
// cluster's start its stream may still be electing a leader): a document
// not put now would stay on this node alone until it changes.
func (k *KB) seedRetrying(ctx context.Context, seen map[string]bool) error {
	wait := 250 * time.Millisecond
	for {
		err := k.seed(ctx, seen)
		if err == nil || ctx.Err() != nil {
			return err
		}
		k.log.Warn("knowledge: putting this node's documents in the cluster's bucket; trying again", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-k.clock.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// seed puts the local documents the bucket never had in it (again after
// a failed try: a put repeated is the same object).
func (k *KB) seed(ctx context.Context, seen map[string]bool) error {
	docs, err := k.local.Docs(ctx)
	if err != nil {
		return err
	}
	var missing []kb.Doc
	for _, d := range docs {
		if !seen[d.Source] {
			missing = append(missing, d)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	chunks, err := k.local.Chunks(ctx)
	if err != nil {
		return err
	}
	bySource := map[string][]kb.Chunk{}
	for _, c := range chunks {
		bySource[c.Source] = append(bySource[c.Source], c)
	}
	var errs []error
	for _, d := range missing {
		cs := bySource[d.Source]
		if cs == nil {
			cs = []kb.Chunk{}
		}
		errs = append(errs, k.publish(ctx, kbRecord{Doc: d, Chunks: cs}))
	}
	k.log.Info("knowledge: documents of this node put in the cluster's bucket", "documents", len(missing))
	return errors.Join(errs...)
}
