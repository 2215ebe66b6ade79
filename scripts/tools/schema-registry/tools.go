//go:build tools

// Package tools pins github.com/axonops/axonops-schema-registry/cmd/schema-registry for the local facility; scripts build it from this module.
package tools

import _ "github.com/axonops/axonops-schema-registry/cmd/schema-registry"
