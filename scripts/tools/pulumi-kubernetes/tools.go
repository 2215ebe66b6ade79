//go:build tools

// Package tools pins the Pulumi Kubernetes provider: the module has no version list on the Go module
// proxy here but serves this commit (2026-01-15); the installer builds its cmd/pulumi-resource-kubernetes
// in a build folder after running the module's generate.go, stamped with the Python SDK's version.
package tools

import _ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
