// Package bench measures what BENCHMARKS.md reports: how long a whole
// `docker-credential-ocicred get` takes beside a hello-world Go program
// built the same way (the floor), how many answers per second the daemon's
// local API gives, how many GetAuthorizationToken calls the daemon's
// refresh logic makes for a large fleet of ECR registries, how many token
// requests per identity it makes at start and per hour on a config of ECR,
// GAR and ACR registries, and how Amazon's docker-credential-ecr-login
// compares with the helper.
//
// The figures come from ordinary Go benchmarks (bench_test.go), so `make
// bench` (go test -run '^$' -bench . ./...) runs them and `go test ./...`
// does not. After the benchmarks, the package prints one plain line per
// figure and, when OCICRED_BENCH_OUT names a file, writes them there as
// Markdown with the machine they ran on.
//
// Read build.go first (the programs, built in the same run with the same
// flags), then stage.go (a real `ocicred daemon` with awsfake behind it, or the
// same stage with no daemon at all),
// sample.go (timing a process, percentiles), refresh.go (the daemon's token
// loops in-process on a simulated clock), startup.go (the real daemon with
// 1,000 registries) and report.go (the lines and BENCHMARKS.md).
// clouds.go is the mixed ECR/GAR/ACR config and how its requests are
// counted, cloudsrun.go runs the real daemon on it against awsfake, gcpfake
// and azfake, cloudsreport.go writes its section; ecrlogin.go builds
// docker-credential-ecr-login from the Go module proxy. scale.go and
// scaleproc.go run the daemon on 10,000 registries, in-process (Go's heap,
// for the profiles) and as the real process (its memory from /proc).
package bench
