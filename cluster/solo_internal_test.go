package cluster

import (
	"net"
	"testing"
)

// soloServer starts a one-server JetStream on a free loopback port with
// s's settings (Node, Client and StoreDir filled in) and stops it when the
// test ends (registered first, so after the nodes' own cleanups).
func soloServer(t testing.TB, s Settings) Settings {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Node, s.Client, s.StoreDir = "solo", l.Addr().String(), t.TempDir()
	l.Close()
	srv, err := StartServer(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return s
}
