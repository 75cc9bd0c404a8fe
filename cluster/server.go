// Package cluster runs Einsatz on several nodes over NATS JetStream: events
// go to a replicated work-queue stream partitioned by thread, each partition
// is worked by the one node holding its lease, replies go through a reply
// stream to a sender, and thread ownership is a key-value bucket every node
// sees. docs/cluster.md says what works and what is not built yet.
//
// With cluster.mode off nothing here runs and the bot works as on one
// machine.
package cluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/einsatz/einsatz/bot/config"
)

// Settings are the cluster settings with defaults applied.
type Settings struct {
	Mode       string
	Name       string
	Node       string
	Listen     string // route address (embedded)
	Client     string // client address (embedded)
	Peers      []string
	URL        string // external
	StoreDir   string
	Partitions int
	Replicas   int
	LeaseTTL   time.Duration
}

// FromConfig applies the defaults to the cluster section.
func FromConfig(cfg *config.Config) Settings {
	c := cfg.Cluster
	s := Settings{Mode: c.Mode, Name: c.Name, Node: c.Node, Listen: c.Listen, Client: c.Client, Peers: c.Peers,
		URL: c.URL, StoreDir: c.StoreDir, Partitions: c.Partitions, Replicas: c.Replicas, LeaseTTL: c.LeaseTTL}
	if s.Name == "" {
		s.Name = "einsatz"
	}
	if s.Node == "" {
		s.Node, _ = os.Hostname()
	}
	if s.Listen == "" {
		s.Listen = "0.0.0.0:6222"
	}
	if s.Client == "" {
		s.Client = "127.0.0.1:4222"
	}
	if s.StoreDir == "" {
		s.StoreDir = filepath.Join(cfg.Storage.Path, "jetstream")
	}
	if s.Partitions == 0 {
		s.Partitions = 16
	}
	if s.Replicas == 0 {
		s.Replicas = 3
		if s.Mode == config.ClusterEmbedded {
			s.Replicas = min(3, 1+len(s.Peers))
		}
	}
	if s.LeaseTTL == 0 {
		s.LeaseTTL = 5 * time.Second
	}
	return s
}

// ClientURL is where a client reaches this cluster: the external URL, or
// the embedded node's client port.
func (s Settings) ClientURL() string {
	if s.Mode == config.ClusterExternal {
		return s.URL
	}
	host, port, _ := net.SplitHostPort(s.Client)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, port)
}

// StartServer starts the embedded NATS server with JetStream and waits
// until it takes clients. With peers it joins them as a cluster.
func StartServer(s Settings) (*server.Server, error) {
	chost, cport, err := splitHostPort(s.Client)
	if err != nil {
		return nil, fmt.Errorf("cluster: client address: %w", err)
	}
	opts := &server.Options{
		ServerName: s.Node,
		Host:       chost,
		Port:       cport,
		JetStream:  true,
		StoreDir:   s.StoreDir,
		NoSigs:     true,
		NoLog:      true,
	}
	if len(s.Peers) > 0 {
		rhost, rport, err := splitHostPort(s.Listen)
		if err != nil {
			return nil, fmt.Errorf("cluster: listen address: %w", err)
		}
		opts.Cluster = server.ClusterOpts{Name: s.Name, Host: rhost, Port: rport}
		var routes []string
		for _, p := range s.Peers {
			routes = append(routes, "nats-route://"+p)
		}
		opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("cluster: nats server %s did not start within 30s", s.Node)
	}
	return srv, nil
}

func splitHostPort(hp string) (string, int, error) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, err
	}
	return host, n, nil
}
