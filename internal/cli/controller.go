package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/ocicred/ocicred/daemon"
	"github.com/ocicred/ocicred/internal/buildinfo"
	"github.com/ocicred/ocicred/internal/kubesink"
)

// controllerFlags are the flags of `ocicred controller`.
type controllerFlags struct {
	kubeconfig    string
	listen        string
	leaseDuration time.Duration
	renewDeadline time.Duration
	retryPeriod   time.Duration
	workers       int
	qps           float32
	burst         int
}

func newControllerCmd(g *globals) *cobra.Command {
	f := &controllerFlags{}
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Keep image-pull Secrets fresh in every selected namespace of a Kubernetes cluster (leader-elected)",
		Long: `Run the cluster controller in the foreground: with the same config file and
token engine as the daemon, it keeps one kubernetes.io/dockerconfigjson Secret
per selected namespace (see the config's kubernetes section). Replicas elect a
leader with a coordination.k8s.io Lease; only the leader calls AWS and writes.
It uses the in-cluster config unless --kubeconfig or KUBECONFIG is given, and
serves /healthz, /readyz and /metrics on --listen.`,
		Example: `  ocicred controller --config /etc/ocicred/config.yaml
  ocicred controller --config ./config.yaml --kubeconfig ~/.kube/config --listen 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			routeKlog(log)
			rc, err := restConfig(f.kubeconfig)
			if err != nil {
				return exitWith(ExitUsage, err)
			}
			rc.QPS, rc.Burst = f.qps, f.burst
			rc.UserAgent = "ocicred-controller/" + buildinfo.Version
			client, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return exitWith(ExitUsage, fmt.Errorf("kubernetes client: %w", err))
			}
			var ln net.Listener
			if f.listen != "" {
				if ln, err = net.Listen("tcp", f.listen); err != nil {
					return exitWith(ExitFailure, fmt.Errorf("--listen: %w", err))
				}
			}
			err = daemon.RunController(cmd.Context(), daemon.ControllerOptions{
				ConfigPath: g.configPath, Client: client, Identity: identity(), Listener: ln, Logger: log,
				LeaseDuration: f.leaseDuration, RenewDeadline: f.renewDeadline, RetryPeriod: f.retryPeriod, Workers: f.workers,
			})
			switch {
			case errors.Is(err, daemon.ErrConfig):
				return exitWith(ExitUsage, err)
			case errors.Is(err, kubesink.ErrLostLease):
				return exitWith(ExitFailure, fmt.Errorf("%w; exiting so that a restarted replica stands by", err))
			case err != nil:
				return exitWith(ExitFailure, err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, else the in-cluster config)")
	fl.StringVar(&f.listen, "listen", ":8080", "address of /healthz, /readyz and /metrics; empty: none")
	fl.DurationVar(&f.leaseDuration, "lease-duration", kubesink.DefaultLeaseDuration, "how long a Lease holds without renewal: the longest a dead leader is waited for")
	fl.DurationVar(&f.renewDeadline, "renew-deadline", kubesink.DefaultRenewDeadline, "how long the leader tries to renew before it gives up leading")
	fl.DurationVar(&f.retryPeriod, "retry-period", kubesink.DefaultRetryPeriod, "how often replicas try to acquire or renew the Lease")
	fl.IntVar(&f.workers, "workers", kubesink.DefaultWorkers, "namespaces reconciled at once")
	fl.Float32Var(&f.qps, "kube-api-qps", 50, "API requests per second, sustained (client-go's default of 5 makes a thousand namespaces take minutes)")
	fl.IntVar(&f.burst, "kube-api-burst", 100, "API requests in a burst")
	return cmd
}

// klogOnce guards klog's logger: a process-wide setting that klog reads
// without a lock, so it is set once, before client-go runs.
var klogOnce sync.Once

// routeKlog sends client-go's klog lines to log, as component=client-go;
// only the first call in a process counts.
func routeKlog(log *slog.Logger) {
	klogOnce.Do(func() { klog.SetSlogLogger(log.With("component", "client-go")) })
}

// restConfig is --kubeconfig, else KUBECONFIG (its usual list of files),
// else the in-cluster config of the Pod's ServiceAccount.
func restConfig(path string) (*rest.Config, error) {
	if path != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
		}
		return rc, nil
	}
	if os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "" {
		rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), nil).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("KUBECONFIG: %w", err)
		}
		return rc, nil
	}
	rc, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("no --kubeconfig, no KUBECONFIG, and not in a Pod (%w); pass --kubeconfig", err)
	}
	return rc, nil
}

// identity is this replica's name in the Lease: POD_NAME, else the host
// name, plus a random suffix, so that a restarted Pod of the same name is
// a new holder (spec, "Kubernetes: ocicred controller").
func identity() string {
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return name + "_" + hex.EncodeToString(b)
}
