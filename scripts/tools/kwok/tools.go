//go:build tools

// Package tools pins KWOK (sigs.k8s.io/kwok/cmd/kwok) at v0.8.0: it simulates the nodes and the
// pod lifecycle of the local Kubernetes control plane (../kubernetes), so Deployments,
// StatefulSets and Strimzi's pod sets become Ready without a kubelet or a container runtime.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
