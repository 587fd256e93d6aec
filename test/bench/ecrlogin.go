package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ocicred/ocicred/test/awsfake"
)

// ECRLoginPackage is Amazon's ECR credential helper at the version issue 15
// compares with, built from the Go module proxy.
const ECRLoginPackage = "github.com/awslabs/amazon-ecr-credential-helper/ecr-login/cli/docker-credential-ecr-login@v0.12.0"

// ECRLoginServer is the registry the ECR helper is asked for: a real ECR
// host name (the helper takes the account and region from it) of awsfake's
// default account. Its AWS calls go to awsfake through AWS_ENDPOINT_URL_ECR.
const ECRLoginServer = awsfake.DefaultAccount + ".dkr.ecr.us-west-2.amazonaws.com"

// BuildECRLogin builds ECRLoginPackage into dir with BuildFlags and
// CGO_ENABLED=0, as the other programs, and returns its path. The error
// names the command and carries its output.
func BuildECRLogin(ctx context.Context, dir string) (string, error) {
	args := append(append([]string{"install"}, BuildFlags...), ECRLoginPackage)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir // outside any module: the version is the one named
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOBIN="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("GOBIN=%s CGO_ENABLED=0 go %s: %w\n%s", dir, strings.Join(args, " "), err, out)
	}
	return filepath.Join(dir, "docker-credential-ecr-login"), nil
}

// ECRLoginEnv is the ECR helper's whole environment on stage s: s's
// awsfake endpoints and the stage's access key, its own cache folder
// (AWS_ECR_CACHE_DIR) and HOME.
func ECRLoginEnv(s *Stage, cacheDir string) []string {
	return append([]string{
		"PATH=/usr/bin:/bin",
		"HOME=" + s.Root,
		"AWS_ECR_CACHE_DIR=" + cacheDir,
		"AWS_ACCESS_KEY_ID=" + stageKeyID,
		"AWS_SECRET_ACCESS_KEY=" + benchSecretKey,
	}, s.Fake.Env()...)
}
