package config

import "path/filepath"

// DataDirEnv is the environment variable that names the data directory.
const DataDirEnv = "EINSATZ_DATA"

// ResolveDataDir sets Storage.Path by the one rule every command follows,
// so that `einsatz backup` run from another folder finds the database
// `einsatz run` uses: the --data flag when given, else $EINSATZ_DATA when
// set and not empty, else storage.path as the config file wrote it, else
// the default ./data. A relative path is made absolute against the working
// directory, so messages name the place for certain. It returns where the
// path came from, for messages: "--data", "EINSATZ_DATA", "storage.path"
// or "default".
func (c *Config) ResolveDataDir(flag string, lookup func(string) (string, bool)) (from string) {
	_, inFile := c.lines["storage.path"]
	env, _ := lookup(DataDirEnv)
	switch {
	case flag != "":
		c.Storage.Path, from = flag, "--data"
	case env != "":
		c.Storage.Path, from = env, DataDirEnv
	case inFile:
		from = "storage.path"
	default:
		c.Storage.Path, from = "./data", "default"
	}
	if abs, err := filepath.Abs(c.Storage.Path); err == nil {
		c.Storage.Path = abs
	}
	return from
}
