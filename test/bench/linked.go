package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ocicred/ocicred/test/e2e/subproc"
)

// LinkedProgram is a program that links some of ocicred's libraries, runs
// their package initialisation, says "ready" and waits for its stdin to
// close: what those libraries cost a process before it does any work.
type LinkedProgram struct {
	Name    string
	Imports []string
}

// LinkedPrograms are the libraries the daemon's binary carries: the AWS
// SDK its ECR tokens come from, and client-go, which only `ocicred
// controller` uses but every ocicred process loads (one binary, spec).
var LinkedPrograms = []LinkedProgram{
	{Name: "nothing (fmt)", Imports: nil},
	{Name: "the AWS SDK (config, ecr, sts)", Imports: []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/service/ecr", "github.com/aws/aws-sdk-go-v2/service/sts"}},
	{Name: "client-go (clientset, informers, leader election)", Imports: []string{"k8s.io/client-go/kubernetes", "k8s.io/client-go/informers", "k8s.io/client-go/tools/leaderelection"}},
}

// LinkedRSS is a program's resident memory at rest, in bytes: all of it
// (VmRSS) and the part that is the mapped binary (RssFile).
type LinkedRSS struct {
	Name         string
	RSS, FileRSS uint64
	SizeMiB      float64
}

// MeasureLinked builds each LinkedProgram in the ocicred module (so its
// libraries are the versions ocicred links), with BuildFlags, into dir,
// runs it and reads its memory once it is ready; then does the same for
// the daemon binary on a config with no registry, once it says it is
// ready.
func MeasureLinked(ctx context.Context, dir, ocicred string) ([]LinkedRSS, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	var out []LinkedRSS
	for i, p := range LinkedPrograms {
		src := filepath.Join(dir, fmt.Sprintf("linked%d.go", i))
		var imports strings.Builder
		for _, imp := range p.Imports {
			fmt.Fprintf(&imports, "\t_ %q\n", imp)
		}
		prog := "package main\n\nimport (\n\t\"fmt\"\n\t\"io\"\n\t\"os\"\n" + imports.String() + ")\n\n" +
			"func main() {\n\tfmt.Println(\"ready\")\n\t_, _ = io.Copy(io.Discard, os.Stdin)\n}\n"
		if err := os.WriteFile(src, []byte(prog), 0o600); err != nil {
			return nil, err
		}
		bin := strings.TrimSuffix(src, ".go")
		if err := goCmd(ctx, root, append(append([]string{"build"}, BuildFlags...), "-o", bin, src)...); err != nil {
			return nil, err
		}
		r, err := restingRSS(ctx, exec.Command(bin), "ready")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		r.Name, r.SizeMiB = p.Name, sizeMiB(bin)
		out = append(out, r)
	}
	cfg := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(cfg, []byte("registries: []\n"), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(ocicred, "daemon", "--config", cfg, "--socket", filepath.Join(dir, "empty.sock"))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "OCICRED_CACHE_DIR=" + filepath.Join(dir, "cache")}
	r, err := restingRSS(ctx, cmd, "ocicred daemon ready")
	if err != nil {
		return nil, fmt.Errorf("ocicred daemon: %w", err)
	}
	r.Name, r.SizeMiB = "ocicred daemon, no registry", sizeMiB(ocicred)
	return append(out, r), nil
}

// restingRSS starts cmd with an open stdin, waits until its output says
// ready, reads its memory, then closes its stdin, stops it and waits for
// it.
func restingRSS(ctx context.Context, cmd *exec.Cmd, ready string) (LinkedRSS, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return LinkedRSS{}, err
	}
	proc, err := subproc.Start(cmd)
	if err != nil {
		return LinkedRSS{}, err
	}
	defer func() { _ = stdin.Close(); _ = proc.Stop(10 * time.Second) }()
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := proc.WaitOutput(wait, func(out string) bool { return strings.Contains(out, ready) }); err != nil {
		return LinkedRSS{}, fmt.Errorf("%w\n%s", err, proc.Output())
	}
	mem, err := procMemory(proc.Pid())
	if err != nil {
		return LinkedRSS{}, err
	}
	return LinkedRSS{RSS: mem["VmRSS"], FileRSS: mem["RssFile"]}, nil
}

// linkedLine is the report's line for the programs.
func linkedLine(rs []LinkedRSS) string {
	if len(rs) == 0 {
		return ""
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s %.1f MiB (binary %.1f MiB, %.1f MiB of it resident)", r.Name, float64(r.RSS)/(1<<20), r.SizeMiB, float64(r.FileRSS)/(1<<20))
	}
	return "resident memory at rest (VmRSS), after package initialisation: " + strings.Join(parts, "; ")
}
