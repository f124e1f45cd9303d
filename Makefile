# kep — Makefile. `make run` starts the main job, `make test` passes the tests.
SHELL := /bin/bash
GO ?= go
BIN := bin
# Debian packages the tests and benchmarks need; `make deps` installs the missing ones.
DEBS := openssl libssl-dev libengine-gost-openssl gcc softhsm2 opensc redis-server chromium poppler-utils fonts-dejavu-core nodejs curl python3 php-cli
# What `make release` and `make test-platforms` need besides DEBS: MinGW-w64
# (cgo for kep-pkcs11.dll), Wine (running the Windows build), msitools
# and wixl (the .msi), rpm (rpmbuild: the .rpm).
PLATFORM_DEBS := gcc-mingw-w64-x86-64 wine wine64 msitools wixl rpm bc
FUZZTIME ?= 20s

.PHONY: all build test deps deps-platforms bench bench-quick fuzz run vet clean cross mutate release test-platforms extension

all: build

build:
	mkdir -p $(BIN)
	$(GO) build -trimpath -o $(BIN)/kep ./cmd/kep
	$(GO) build -trimpath -buildmode=c-shared -o $(BIN)/kep-pkcs11.so ./pkcs11/module
	$(GO) run ./extension/pack -o $(BIN)

# The browser extension: bin/kep-extension-chromium.zip (Chrome Web Store,
# Edge, Yandex) and bin/kep-extension-firefox.xpi; linted by the extension
# package's tests with web-ext (scripts/web-ext.sh, pinned, from npm).
extension:
	$(GO) run ./extension/pack -o $(BIN)

deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing >/dev/null; \
	fi
	@# npm (for the agent/cades tests' pinned npm packages) comes with some nodejs builds, else from Debian.
	@command -v npm >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq npm >/dev/null; }
	@# Mozilla's web-ext (pinned) for the extension's lint test, into bin/tools/web-ext.
	@bash scripts/web-ext.sh --version >/dev/null

deps-platforms:
	@$(MAKE) --no-print-directory deps DEBS="$(PLATFORM_DEBS)"

# Windows and macOS builds must keep compiling. Without cgo they load
# PKCS#11 modules with the cgo-free loader (pkcs11/cryptoki_purego.go).
cross:
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/kep
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/kep
	GOOS=darwin GOARCH=amd64 CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/kep

# The packages with the concurrency tests (agent, keystore, login stores,
# revocation checker) run under the race detector instead of plainly.
test: deps cross
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -vxF -e github.com/kepkit/kep/agent \
		-e github.com/kepkit/kep/pkcs11/keystore -e github.com/kepkit/kep/verify/login -e github.com/kepkit/kep/certs/revocation)
	$(GO) test -race -count=1 -timeout 20m ./agent ./pkcs11/keystore ./verify/login ./certs/revocation
	# The cgo-free PKCS#11 loader (what the macOS and Windows builds use) on
	# the same SoftHSM and kep-pkcs11.so tests: without cgo, and inside a cgo
	# process (pkcs11/module loads its own .so through it).
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 20m ./pkcs11 ./pkcs11/keystore
	$(GO) test -count=1 -timeout 20m -tags pkcs11purego ./pkcs11/module
	# The platforms: kep.exe under Wine, the packages installed, two release
	# builds compared (about 4 minutes warm here, plus Wine's install once).
	$(MAKE) --no-print-directory test-platforms

# Packages in dist/ with SHA256SUMS: .deb, .rpm, Windows .msi, macOS
# tarballs (scripts/release.sh; reproducible from SOURCE_DATE_EPOCH).
release: deps deps-platforms
	bash scripts/release.sh

# The Windows build under Wine, the packages installed and removed, two
# release builds compared (scripts/test-platforms.sh); part of make test, and
# runnable alone. It installs Wine and MinGW-w64 and builds the release twice.
test-platforms: deps deps-platforms
	bash scripts/test-platforms.sh

bench: deps
	bash bench/run.sh

# A short subset for development: a few operations, one run, 0.3 s each.
bench-quick: deps
	BENCH_QUICK=1 bash bench/run.sh

fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

# Mutation testing (gremlins, pinned, installed in bin/tools: not a module
# dependency) of the packages that decide verdicts, each package bounded by
# MUTATE_TIMEOUT; prints the test efficacy per package. Slow: it reruns a
# package's tests once per mutant. Narrow with MUTATE_PKGS="internal/ber".
GREMLINS_VERSION := v0.6.0
MUTATE_TIMEOUT ?= 40m
mutate:
	GOBIN=$(CURDIR)/$(BIN)/tools $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)
	GREMLINS=$(CURDIR)/$(BIN)/tools/gremlins MUTATE_TIMEOUT=$(MUTATE_TIMEOUT) OUT=$(BIN)/mutate nice -n 15 bash scripts/mutate.sh

# The agent with the demo software token and the demo portal (no hardware needed).
run: build
	bash scripts/run.sh

clean:
	rm -rf $(BIN)
