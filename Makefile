# bitorigin: BitTorrent tracker and origin seeder for content publishers.
# `make help` lists the targets.

GO        ?= go
BIN       ?= bin
GOFLAGS   ?=
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/bitorigin/bitorigin/internal/version.Version=$(VERSION)
TEST_TIMEOUT ?= 14m
FUZZTIME  ?= 10s
BENCHTIME ?= 1s

.PHONY: help build run test test-deps bench bench-tracker soak bench-create bench-script bench-seeder bench-offload lint fuzz images clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build every binary into ./bin
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build $(GOFLAGS) -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

run: build ## start the tracker and a seeder of a generated sample; prints an aria2c command
	@scripts/run.sh

test-deps: ## install what the tests need (Debian packages), only when missing
	@scripts/install-test-deps.sh

test: test-deps ## install test dependencies when missing, then run every test with -race, and the allocation tests without
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	@# The race detector allocates: tests named ...WithoutAllocating skip under
	@# -race and run here.
	$(GO) test -count=1 -run 'WithoutAllocating' ./...

bench: ## run the Go benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

bench-tracker: build test-deps ## our tracker (memory, Redis) against opentracker: wrk and loadtest, HTTP and UDP
	@scripts/bench-tracker.sh

bench-script: test-deps ## instructions Redis spends per announce script call, counted by callgrind (repeatable on a busy machine)
	@scripts/bench-script.sh

bench-create: build test-deps ## seeder create against mktorrent on a 1 GiB file, same piece length, all cores
	@scripts/bench-create.sh

bench-seeder: build test-deps ## 4 libtorrent leechers fetch 1 GiB from our seeder, then from libtorrent; plus a loadtest swarm row
	@scripts/bench-seeder.sh

bench-offload: build test-deps ## origin upload and time for 12 libtorrent leechers: ours (offload auto, off) against libtorrent plain and super-seeding
	@scripts/bench-offload.sh

lint: ## gofmt, go vet and staticcheck; the commands also build for macOS, FreeBSD and Windows
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" >&2; exit 1)
	$(GO) vet ./...
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	"$$($(GO) env GOPATH)/bin/staticcheck" ./...
	@for os in darwin freebsd windows; do GOOS=$$os $(GO) build -o /dev/null ./cmd/... || exit 1; done

soak: build test-deps ## load tracker (Redis) and seeder for SOAK_DURATION (10m); memory, fds and goroutines must stay flat
	@scripts/soak.sh

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

images: IMAGE_REPO ?= bitorigin
images: ## build the tracker and seeder container images, IMAGE_REPO/NAME:VERSION (needs a Docker engine)
	docker build --target tracker --build-arg VERSION=$(VERSION) -t $(IMAGE_REPO)/tracker:$(VERSION) .
	docker build --target seeder --build-arg VERSION=$(VERSION) -t $(IMAGE_REPO)/seeder:$(VERSION) .

clean: ## remove build output
	rm -rf $(BIN)
