# ocicred — see README.md. `make help` lists the targets.
GO       ?= go
BIN      ?= bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PKG      := github.com/ocicred/ocicred
LDFLAGS  := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
GOBUILD  := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'
DIST     ?= dist
# Go tools the tests drive live in .tools/bin (`make tools`), first on PATH.
export PATH := $(CURDIR)/.tools/bin:$(shell $(GO) env GOPATH)/bin:$(PATH)

PKG_VERSION ?= $(shell git describe --tags --match 'v[0-9]*' 2>/dev/null | sed 's/^v//' || true)
ifeq ($(PKG_VERSION),)
PKG_VERSION := 0.0.0~git$(COMMIT)
endif
GOARCH   ?= $(shell $(GO) env GOARCH)

.PHONY: help build tools test test-short lint fuzz demo bench man package image clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/ocicred and bin/docker-credential-ocicred
	$(GOBUILD) -o $(BIN)/ocicred ./cmd/ocicred
	$(GOBUILD) -o $(BIN)/docker-credential-ocicred ./cmd/docker-credential-ocicred

tools: ## install what the tests need: apt packages (as root), Go tools into .tools/bin; quick when present
	bash .ci/install-tools

# Skipped tests are appended to OCICRED_SKIP_LOG (test/testenv) and
# named in one line at the end; under CI=true a skip is a failure instead.
test: tools ## install what the tests need, vet, then every test with the race detector (end-to-end and systemd suites included)
	$(GO) vet ./...
	@skips=$$(mktemp); \
	OCICRED_SKIP_LOG=$$skips $(GO) test -race -count=1 -timeout 30m ./...; rc=$$?; \
	if [ -s $$skips ]; then \
	  echo "make test: skipped $$(wc -l <$$skips) test(s): $$(sort $$skips | paste -sd ';' - | sed 's/;/; /g')"; \
	fi; rm -f $$skips; exit $$rc

test-short: ## unit tests only (skips the end-to-end suite)
	$(GO) test -race -short -count=1 ./...

FUZZTIME ?= 20s
FUZZ := ./internal/kubeletplugin:FuzzReadRequest ./helper:FuzzHelperGet ./internal/hostkey:FuzzKey \
	./daemon:FuzzCredentialsRequest ./internal/localapi:FuzzReadResponse ./config:FuzzParse ./config:FuzzHostKey ./config:FuzzParseAliases ./config:FuzzSecretFile

fuzz: ## run each fuzz target for FUZZTIME (20s)
	@set -e; for t in $(FUZZ); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$name ($$pkg)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg; done

lint: tools ## go vet and staticcheck
	$(GO) vet ./...
	staticcheck ./...

demo: build ## run a daemon, a local registry with auth, and a pull through the helper
	$(GO) run ./hack/demo --bin $(BIN)

bench: build ## print the benchmark figures
	$(GO) test -run '^$$' -bench . -benchmem ./...

man: ## write the man pages into $(BIN)/man
	$(GO) run ./hack/mangen $(BIN)/man

package: build man ## build $(DIST)/*.deb and $(DIST)/*.rpm with nfpm (DIST=dist)
	mkdir -p $(DIST) && rm -f $(DIST)/*.deb $(DIST)/*.rpm
	PKG_VERSION=$(PKG_VERSION) GOARCH=$(GOARCH) nfpm package -f packaging/nfpm.yaml -p deb -t $(DIST)/
	PKG_VERSION=$(PKG_VERSION) GOARCH=$(GOARCH) nfpm package -f packaging/nfpm.yaml -p rpm -t $(DIST)/

IMAGE ?= ocicred/ocicred:$(VERSION)
image: ## build $(DIST)/ocicred-image.tar: static, non-root, with go-containerregistry (no Docker daemon); docker load or crane push it
	mkdir -p $(DIST)/image
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/image/ocicred ./cmd/ocicred
	$(GO) run ./internal/ociimage -bin $(DIST)/image/ocicred -tag $(IMAGE) -o $(DIST)/ocicred-image.tar

clean: ## remove built files (not .tools)
	rm -rf $(BIN) dist
