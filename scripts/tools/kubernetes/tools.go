//go:build tools

// Package tools pins a Kubernetes control plane: kube-apiserver, kube-controller-manager,
// kube-scheduler and kubectl of k8s.io/kubernetes v1.33.3, whose client libraries (v0.33.3) are the ones the
// Kubernetes provider (../pulumi-kubernetes) builds with, so the two share the Go build cache; and
// etcd v3.5.21, the version that release pins (k8s.io/kubernetes v1.33.3 go.mod and
// build/dependencies.yaml). Each staging module is replaced by its published v0.33.3, as the
// kubernetes repository replaces them by its own staging folders; k8s.io/sample-cli-plugin,
// which the proxy refuses (403) and no binary here imports, by an empty stub.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
