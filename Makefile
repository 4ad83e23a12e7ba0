# tally's build. `make run` and `make test` are the two commands a new user runs (README.md).
GO       ?= go
BIN      := bin/tally
FUZZTIME ?= 15s
# Run as root, or with sudo when it is there, to install what the tests need.
SUDO     := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: all build run test deps vet unit fuzz bench-collector clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/tally

## run: build, then run the demo playbook on this machine over the local connection.
run: build
	./$(BIN) run -i testdata/demo/inventory.ini testdata/demo/site.yml

## test: install what is missing, then run every test (race detector on, fuzzers bounded).
test: deps vet unit fuzz

## deps: the reference implementation the compatibility suite compares against.
deps:
	@command -v ansible-playbook >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q ansible-core; }

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

## fuzz: each parser's fuzz target for $(FUZZTIME).
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzLoadINI$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./host/inventory
	$(GO) test -run='^$$' -fuzz='^FuzzLoadYAML$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./host/inventory
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./host/playbook

## bench-collector: events/s through the collector, and the heap of 1,000,000 kept results.
bench-collector:
	$(GO) test -run '^$$' -bench 'BenchmarkCollectorNoopCallback' -count 3 ./host/collector
	$(GO) test -run '^$$' -bench 'BenchmarkConsolidatedResults' -benchtime 1x -count 2 ./host/collector

clean:
	rm -rf bin build
