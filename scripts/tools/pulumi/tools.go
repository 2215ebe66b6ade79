//go:build tools

// Package tools pins the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) at v3.274.1, the newest
// version the Go module proxy serves here; the installer builds it with the version stamped in.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
