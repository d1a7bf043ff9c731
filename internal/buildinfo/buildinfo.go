// Package buildinfo tells which build of PIA is running.
package buildinfo

import "runtime/debug"

// version is set at link time: -ldflags "-X github.com/pia-sicilia/pia/internal/buildinfo.version=v1.2.3".
var version string

// Version is the link-time version, else the module version or VCS revision
// Go recorded, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
