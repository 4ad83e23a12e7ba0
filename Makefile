# tally's build. `make run` and `make test` are the two commands a new user runs (README.md).
GO       ?= go
BIN      := bin/tally
# Run as root, or with sudo when it is there, to install what the tests need.
SUDO     := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: all build plugins install run test deps vet unit unit-packages unit-cmd unit-bridge unit-compat fuzz bench-collector bench-e2e bench-scale bench-sinks clean

PLUGIN_DIR := build/plugins
# Where make install puts the binary and the bundled plugins (the default plugin search path's
# system directory).
PREFIX     ?= /usr/local
PLUGINDEST ?= /usr/share/tally/plugins/callback

all: build plugins

build:
	$(GO) build -o $(BIN) ./cmd/tally

## plugins: every bundled plugin, plugins/NAME/ -> build/plugins/NAME.wasm: Go with the stock
## toolchain, anything else with the Makefile in its directory (given OUT, the file to write).
## A plugin in C is built only when clang can build for WASI (clang, lld, wasi-libc and the
## wasm32 builtins: make deps installs them), and skipped with a word otherwise, so that
## make run needs nothing but Go.
PLUGIN_SRC ?= $(wildcard plugins/*/)
CLANG      ?= clang
plugins:
	@mkdir -p $(PLUGIN_DIR)
	@for d in $(PLUGIN_SRC); do d=$${d%/}; n=$$(basename $$d); \
		if [ -f $$d/main.go ]; then \
			echo "plugin $$n (Go)"; \
			GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(GO) build -buildmode=c-shared -trimpath -o $(PLUGIN_DIR)/$$n.wasm ./$$d || exit 1; \
		elif [ -f $$d/Makefile ] && ls $$d/*.c >/dev/null 2>&1 && \
			! echo 'int tally_probe;' | $(CLANG) --target=wasm32-wasi -mexec-model=reactor -x c -o /dev/null - >/dev/null 2>&1; then \
			echo "plugin $$n (C) skipped: $(CLANG) cannot build for WASI here (make deps installs clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)"; \
		elif [ -f $$d/Makefile ]; then \
			echo "plugin $$n ($$d/Makefile)"; \
			$(MAKE) -s -C $$d OUT=$(abspath $(PLUGIN_DIR))/$$n.wasm CLANG=$(CLANG) || exit 1; \
		fi; \
	done

## install: the binary into $(PREFIX)/bin, the bundled plugins into $(PLUGINDEST), compiled into
## the installing user's plugin cache (tally plugins warm).
install: build plugins
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tally
	install -d $(DESTDIR)$(PLUGINDEST)
	@set -e; for f in $(PLUGIN_DIR)/*.wasm; do [ -e "$$f" ] || continue; install -m 0644 $$f $(DESTDIR)$(PLUGINDEST)/; done
	@# The first run then finds them compiled (in the cache of the user who installs; not for a package's DESTDIR).
	@if [ -z "$(DESTDIR)" ]; then $(PREFIX)/bin/tally plugins warm --callback-path $(PLUGINDEST); fi

## run: build tally and the bundled plugins, then run the demo playbook on this machine over the
## local connection, drawn by the default plugin (build/plugins/default.wasm).
run: build plugins
	./$(BIN) run --callback-path $(PLUGIN_DIR) -i testdata/demo/inventory.ini testdata/demo/site.yml

## test: install what is missing, then run every test (race detector on, fuzzers bounded).
test: deps vet unit fuzz

## deps: what the tests need that may be missing, as command-or-file:package: the reference
## implementation the compatibility suite compares against (with ansible.posix), the OpenSSH
## server, client and sudo of the SSH tests, clang and WASI for the C plugin, xmllint, and
## PostgreSQL 15, which the postgres sink's tests start on their own.
DEPS := ansible-playbook:ansible-core /usr/lib/python3/dist-packages/ansible_collections/ansible/posix:ansible \
	/usr/sbin/sshd:openssh-server ssh:openssh-client sudo:sudo xmllint:libxml2-utils \
	clang:clang wasm-ld:lld /usr/lib/wasm32-wasi/crt1-reactor.o:wasi-libc \
	/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a:libclang-rt-14-dev-wasm32 \
	/usr/lib/postgresql/15/bin/initdb:postgresql
deps:
	@missing=; for d in $(DEPS); do c=$${d%%:*}; command -v $$c >/dev/null || [ -e $$c ] || missing="$$missing $${d#*:}"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...

## unit: every test under the race detector, in four go test runs, each with a time limit of its
## own, for hangs, with room for a busy machine: the packages but cmd/tally; cmd/tally's
## `--engine ansible` tests (BRIDGE: every compat playbook under ansible-playbook, locally and over
## SSH, which checks the results recorded in the playbooks' headers and cross-checks tally's
## engine), the slowest part; its compatibility suites (COMPAT: tally's runs of every compat
## playbook against those recorded results); and the rest of cmd/tally. With two busy loops
## beside it on two cores, `make test` took 69 minutes, 59 of them in cmd/tally.
COMPAT := ^TestCompat(SSH)?$$
BRIDGE := ^TestEngineAnsible
unit: unit-packages unit-cmd unit-bridge unit-compat
unit-packages:
	$(GO) test -race -count=1 -timeout 30m $$($(GO) list ./... | grep -v '/cmd/tally$$')
unit-cmd:
	$(GO) test -race -count=1 -timeout 60m -skip '$(COMPAT)|$(BRIDGE)' ./cmd/tally
unit-bridge:
	$(GO) test -race -count=1 -timeout 60m -run '$(BRIDGE)' ./cmd/tally
unit-compat:
	$(GO) test -race -count=1 -timeout 60m -run '$(COMPAT)' ./cmd/tally

## fuzz: each parser's fuzz target for a fixed number of inputs (about 15 s each here, each run
## with a time limit for hangs):
## inventories, playbooks, templates, and the plugins' event decoder. A count, not a duration:
## Go 1.26's fuzzing coordinator can fail a timed run with "context deadline exceeded" when the
## time runs out during an input (golang/go#75804, fixed in Go 1.27).
fuzz:
	$(GO) test -timeout 20m -run='^$$' -fuzz='^FuzzLoadINI$$' -fuzztime=12000x -fuzzminimizetime=2s ./host/inventory
	$(GO) test -timeout 20m -run='^$$' -fuzz='^FuzzLoadYAML$$' -fuzztime=12000x -fuzzminimizetime=2s ./host/inventory
	$(GO) test -timeout 20m -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=30000x -fuzzminimizetime=2s ./host/playbook
	$(GO) test -timeout 20m -run='^$$' -fuzz='^FuzzRender$$' -fuzztime=200000x -fuzzminimizetime=2s ./host/template
	$(GO) test -timeout 20m -run='^$$' -fuzz='^FuzzDecodeBatch$$' -fuzztime=100000x -fuzzminimizetime=2s ./pluginsdk/wire

## bench-sinks: a run of 1,000 hosts x 50 tasks through the db plugin (db.wasm) into SQLite and
## into a PostgreSQL 15 server the benchmark starts: the plugin's records as the results come,
## then from the stats event to the committed transaction; and the end of such a run alone
## (50,000 records: spool, then one transaction) (docs/benchmarks.md).
bench-sinks: deps
	$(GO) test -run='^$$' -bench='^BenchmarkDBPlugin' -benchtime=3x ./host/pluginhost
	$(GO) test -run='^$$' -bench='^BenchmarkSinkCommit50000' -benchtime=3x ./host/sink

## bench-collector: events/s through the collector, and the heap of 1,000,000 kept results.
bench-collector:
	$(GO) test -run '^$$' -bench 'BenchmarkCollectorNoopCallback' -count 3 ./host/collector
	$(GO) test -run '^$$' -bench 'BenchmarkConsolidatedResults' -benchtime 1x -count 2 ./host/collector

## bench-e2e: the same playbook over SSH by ansible-playbook, tally and a raw x/crypto/ssh floor
## (N hosts of one local sshd, default 20; needs root).
bench-e2e: build plugins
	TALLY=$(CURDIR)/$(BIN) bench/e2e/run.sh $(N)

## bench-scale: HOSTS hosts (default 1,000) x 10 tasks, each host its own SSH connection to
## sshd on loopback: tally with the default, summary and jsonl plugins against the raw floor at
## -f 50 and 200, tally's forks curve, ansible-playbook at 200 hosts (docs/benchmarks.md; needs
## root). Try it small first: HOSTS=50 make bench-scale.
SCALE_PLUGINS := plugins/default/ plugins/summary/ plugins/jsonl/
bench-scale: build
	$(MAKE) plugins PLUGIN_SRC="$(SCALE_PLUGINS)"
	TALLY=$(CURDIR)/$(BIN) bench/scale/run.sh $(HOSTS)

clean:
	rm -rf bin build
