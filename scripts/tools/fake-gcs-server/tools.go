//go:build tools

// Package tools pins github.com/fsouza/fake-gcs-server for the local facility; scripts build it from this module.
package tools

import _ "github.com/fsouza/fake-gcs-server"
