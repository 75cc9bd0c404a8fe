package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cluster runs several nodes over NATS JetStream (docs/cluster.md). The
// zero value is one machine, as without the section.
type Cluster struct {
	// Mode: off (one machine, the default), embedded (this node runs a
	// NATS server in-process and forms a cluster with Peers) or external
	// (connect to the NATS cluster at URL).
	Mode string `yaml:"mode"`
	// Name of the NATS cluster, the same on every node; default "einsatz".
	Name string `yaml:"name"`
	// Node names this node, unique in the cluster; default the host name.
	Node string `yaml:"node"`
	// Listen is the host:port other nodes connect to (embedded); default
	// "0.0.0.0:6222".
	Listen string `yaml:"listen"`
	// Client is the host:port of this node's NATS client port (embedded;
	// `einsatz cluster status` connects to it); default "127.0.0.1:4222".
	Client string `yaml:"client"`
	// Peers are the Listen addresses of the other nodes (embedded).
	Peers []string `yaml:"peers"`
	// URL of the external NATS servers, comma separated (external).
	// Credentials come from the environment: NATS_CREDS (a creds file),
	// NATS_TOKEN, or NATS_USER and NATS_PASSWORD.
	URL string `yaml:"url"`
	// StoreDir keeps this node's JetStream data (embedded); default
	// storage.path + "/jetstream".
	StoreDir string `yaml:"store_dir"`
	// Partitions split the event stream by thread; a thread's events stay
	// in one partition, handled in order by one node. Default 16; all
	// nodes must agree.
	Partitions int `yaml:"partitions"`
	// Replicas of each stream and bucket; default 3 (at most the number of
	// embedded nodes).
	Replicas int `yaml:"replicas"`
	// LeaseTTL: a partition whose node stopped renewing its lease for this
	// long moves to another node; default 5s (failover ≤ 10 s, docs/cluster.md).
	LeaseTTL time.Duration `yaml:"lease_ttl"`
}

// Cluster modes.
const (
	ClusterOff      = "off"
	ClusterEmbedded = "embedded"
	ClusterExternal = "external"
)

// On reports whether the node is part of a cluster.
func (c Cluster) On() bool { return c.Mode == ClusterEmbedded || c.Mode == ClusterExternal }

func (v *validator) cluster(c Cluster) {
	if c.Mode == "" {
		c.Mode = ClusterOff
	}
	v.oneOf("cluster.mode", c.Mode, ClusterOff, ClusterEmbedded, ClusterExternal)
	if c.Partitions < 0 || c.Partitions > 1024 {
		v.add("cluster.partitions", "must be between 1 and 1024, got %d", c.Partitions)
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		v.add("cluster.replicas", "must be between 1 and 5, got %d", c.Replicas)
	}
	if c.LeaseTTL < 0 || (c.LeaseTTL > 0 && c.LeaseTTL < time.Second) {
		v.add("cluster.lease_ttl", "must be at least 1s, got %s", c.LeaseTTL)
	}
	switch c.Mode {
	case ClusterEmbedded:
		if c.URL != "" {
			v.add("cluster.url", "is for mode external; embedded nodes find each other through cluster.peers")
		}
		v.hostPort("cluster.listen", c.Listen)
		v.hostPort("cluster.client", c.Client)
		for i, p := range c.Peers {
			v.hostPort(fmt.Sprintf("cluster.peers[%d]", i), p)
		}
		if c.Replicas > 1+len(c.Peers) {
			v.add("cluster.replicas", "%d replicas need at least %d nodes; cluster.peers names %d others", c.Replicas, c.Replicas, len(c.Peers))
		}
	case ClusterExternal:
		if c.URL == "" {
			v.add("cluster", "mode external needs cluster.url, such as nats://nats-1:4222,nats://nats-2:4222")
		}
		for _, part := range SplitURLs(c.URL) {
			if u, err := url.Parse(part); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
				v.add("cluster.url", "must be nats:// or tls:// URLs separated by commas, got %q", part)
			}
		}
		if len(c.Peers) > 0 || c.Listen != "" {
			v.add("cluster.peers", "is for mode embedded; an external cluster is configured in NATS itself")
		}
	case ClusterOff:
		if len(c.Peers) > 0 || c.URL != "" {
			v.add("cluster.mode", "is off, but cluster.peers or cluster.url is set: set mode embedded or external")
		}
	}
}

// hostPort checks an optional host:port ("" keeps the default).
func (v *validator) hostPort(path, value string) {
	if value == "" {
		return
	}
	_, port, err := net.SplitHostPort(value)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		v.add(path, "must be host:port such as 10.0.0.2:6222, got %q", value)
	}
}

// SplitURLs splits a comma-separated list of URLs, dropping blanks.
func SplitURLs(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
