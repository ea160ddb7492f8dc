// The pod sandbox ("pause") process containerd's CRI starts first in every pod: it holds the pod's
// namespaces and waits to be stopped. Built from this file by .ci/k8s-tools.sh (JSM_SSO_WITH_NODE=1),
// so no pause image is pulled from a registry (upstream's is build/pause/linux/pause.c). Pods here
// do not share their PID namespace, so it has no orphans to reap.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
