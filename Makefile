# wgboot: build, image, QEMU demo and tests. See README.md.
#
#   make                 build out/amd64/init and out/arm64/init (static), and
#                        out/host/wgboot, the host command (check, import, …);
#                        LINES=1: /init with line tables (see LINES below)
#   make kernels         fetch Debian's cloud kernels for both arches (cached)
#   make image ARCH=arm64 [RESCUE=1] [PROFILE=board/profiles/qemu-arm64.toml] [BCJ=none]
#   make demo            build the default image and boot it under QEMU
#   make test            unit, netns and QEMU end-to-end tests (as root)
#   make fuzz FUZZTIME=30s
#   make bench           benchmarks vs the alternatives (bench/RESULTS.md)
#   make bench-quick     its smaller sibling, a few minutes (out/bench/RESULTS-quick.md)

SHELL    := /bin/bash
GO       ?= go
ARCH     ?= amd64
ARCHES   := amd64 arm64
OUT      := out
CACHE    ?= .cache
KERNELS  := $(CACHE)/kernels
# A board kernel of your own: KERNEL=path/to/Image MODULES=path/to/lib/modules/<version>
KERNEL   ?= $(KERNELS)/$(ARCH)/vmlinuz
MODULES  ?= $(KERNELS)/$(ARCH)/modules
PROFILE  ?= board/profiles/qemu-$(ARCH).toml
FUZZTIME ?= 30s
# RESCUE=1: the image also carries u-root's tools (gosh, ip, dmesg, …, from
# the tools module) and the remote rescue (its SSH server, and /init built
# with -tags=rescue as out/ARCH/init-rescue), and is written to
# initramfs-rescue.cpio.xz; the default image and its name do not change.
RESCUE   ?=
RESCUE_ON := $(filter 1 y yes true,$(RESCUE))
# BCJ: the xz branch filter (mkimage -bcj). auto: amd64's x86 filter, or
# arm64's on a kernel that has its decoder (Linux 6.12+), as the kernel's
# config beside MODULES says; BCJ=none for a kernel without it.
BCJ      ?= auto
IMAGE    := $(OUT)/$(ARCH)/initramfs$(if $(RESCUE_ON),-rescue).cpio.xz
# A rescue image's /init is built with the rescue tag (image.RescueTag):
# only it carries the remote rescue (init/remote_linux.go), so that the
# default /init, flashed into every board, does not.
INIT_BIN := $(OUT)/$(ARCH)/init$(if $(RESCUE_ON),-rescue)

# LINES=1: /init with Go's line tables, for tracebacks that say file:line
# (make build LINES=1). By default /init is compiled through
# image/cmd/nolines (-toolexec), without them: they are ~190 KB (amd64) and
# ~160 KB (arm64) of the image's xz, and a traceback's function+offset maps
# back to file:line with a build of the same commit (docs/size.md).
LINES    ?=
LINES_ON := $(filter 1 y yes true,$(LINES))
NOLINES  := $(OUT)/host/nolines
TOOLEXEC := $(if $(LINES_ON),,-toolexec=$(abspath $(NOLINES)))

# The build time is the last commit's time, so that builds are reproducible.
BUILD_TIME := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS    := -s -w -X main.buildTime=$(BUILD_TIME) -X main.version=$(VERSION)

# CGO_ENABLED=0 explicitly: on amd64 hosts the default is 1, and an import of
# net would then give a dynamic binary that cannot run as /init.
# GOAMD64=v1: QEMU's default CPU and older boards.
GOFLAGS_TARGET := CGO_ENABLED=0 GOOS=linux GOAMD64=v1 GOARM64=v8.0
# INIT_FLAGS: /init's compiler flags, one a line in image/initflags.txt
# (which says why), shared with the images the tests build.
INIT_FLAGS := $(shell sed '/^[[:space:]]*[\#]/d' image/initflags.txt)

.PHONY: all build kernels image demo test fuzz vet deps clean static-check bench-peers check-profiles
all: build

build: $(foreach a,$(ARCHES),$(OUT)/$(a)/init) static-check $(OUT)/host/wgboot

$(OUT)/%/init: $(if $(LINES_ON),,$(NOLINES)) FORCE
	@mkdir -p $(dir $@)
	$(GOFLAGS_TARGET) GOARCH=$* $(GO) build -trimpath $(INIT_FLAGS) $(TOOLEXEC) -ldflags='$(LDFLAGS)' -o $@ ./init

$(OUT)/%/init-rescue: $(if $(LINES_ON),,$(NOLINES)) FORCE
	@mkdir -p $(dir $@)
	$(GOFLAGS_TARGET) GOARCH=$* $(GO) build -trimpath $(INIT_FLAGS) -tags=rescue $(TOOLEXEC) -ldflags='$(LDFLAGS)' -o $@ ./init

static-check:
	@for a in $(ARCHES); do \
		f=$(OUT)/$$a/init; \
		file $$f | grep -q 'statically linked' || { echo "$$f is not statically linked"; file $$f; exit 1; }; \
	done; echo "static-check: $(foreach a,$(ARCHES),$(OUT)/$(a)/init) statically linked"

# Host tools are built for the host, whatever GOARCH says. wgboot is the
# host command (cmd/wgboot): check, import, timeline, state.
$(OUT)/host/wgboot: FORCE
	@mkdir -p $(dir $@)
	GOOS= GOARCH= CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-X main.version=$(VERSION)' -o $@ ./cmd/wgboot

# The -toolexec wrapper that compiles /init without line tables (LINES).
$(NOLINES): FORCE
	@mkdir -p $(dir $@)
	GOOS= GOARCH= CGO_ENABLED=0 $(GO) build -o $@ ./image/cmd/nolines

$(OUT)/host/mkimage: FORCE
	@mkdir -p $(dir $@)
	GOOS= GOARCH= CGO_ENABLED=0 $(GO) build -o $@ ./image/cmd/mkimage

deps:
	@scripts/deps.sh

kernels: deps
	CACHE=$(KERNELS) scripts/kernels.sh $(ARCHES)

# The default MODULES are those of Debian's cloud kernel for ARCH, fetched
# on first use as make demo fetches them; a MODULES= of your own is used as
# given, and mkimage says so when it does not exist.
IMAGE_KERNEL := $(if $(filter file,$(origin MODULES)),$(KERNELS)/$(ARCH)/.package)

image: $(INIT_BIN) $(OUT)/host/mkimage $(OUT)/host/wgboot $(IMAGE_KERNEL)
	$(OUT)/host/wgboot check -image $(if $(RESCUE_ON),rescue,minimal) $(PROFILE)
	$(OUT)/host/mkimage -init $(INIT_BIN) -modules-dir $(MODULES) \
		-profile $(PROFILE) -bcj $(BCJ) $(if $(RESCUE_ON),-rescue -tools tools -out-dir $(OUT)) -o $(IMAGE)
	@ls -l $(IMAGE)

# One arch's kernel, when it is not there yet (make image).
$(KERNELS)/%/.package:
	@scripts/deps.sh
	CACHE=$(KERNELS) scripts/kernels.sh $*

demo: kernels
	GOOS= GOARCH= $(GO) run ./image/cmd/demo -arch $(ARCH) -kernels $(KERNELS)

vet:
	@for a in $(ARCHES); do $(GOFLAGS_TARGET) GOARCH=$$a $(GO) vet ./... && \
		$(GOFLAGS_TARGET) GOARCH=$$a $(GO) vet -tags=rescue ./init || exit 1; done

# Every profile shipped must pass the same check firmware builders run.
check-profiles: $(OUT)/host/wgboot
	$(OUT)/host/wgboot check board/profiles/*.toml

# As root, the netns and QEMU tests run; WGBOOT_E2E=required turns a missing
# prerequisite (kernel, QEMU) into a failure instead of a skip.
# The init package also runs under the race detector: its phases run on
# goroutines that may outlive the boot deadline; and once more with the
# rescue tag, which the remote rescue's tests (remote_linux_test.go) need.
test: kernels vet build check-profiles
	$(GO) test -race -count=1 ./init/...
	$(GO) test -race -count=1 -tags=rescue ./init/...
	WGBOOT_KERNELS=$(abspath $(KERNELS)) WGBOOT_E2E=required \
		$(GO) test -timeout 25m -count=1 ./...

# WireGuard peer scaling, 1 to 10,000 peers, in a guest: wgboot vs wg setconf
# vs wgctrl-go (a separate module, so wgctrl never enters go.mod).
bench-peers: kernels
	bench/wgpeers/run.sh $(ARCH)

# Benchmarks against the alternatives, both arches, under QEMU (not part of
# make test; 20–25 minutes): bring-up time vs a wg-quick-style initramfs in
# instruction time (-icount, the headline) and TCG wall time, the goals and
# where each stands, image sizes vs it and u-root and the default image
# against its budget, init's peak RSS, peer scaling (bench-peers) and the
# boot timeline. Prints markdown tables, writes bench/RESULTS.md and
# docs/boot-timeline.svg. BENCHFLAGS: e.g. -boots=9, -peers=reuse,
# -lock=FILE (flock FILE around each guest).
# bench-quick is its smaller sibling (CI, the README): instruction time
# only, one boot per variant, peers at 1 and 100, both arches; it writes
# out/bench/RESULTS-quick.md and leaves bench/RESULTS.md alone.
.PHONY: bench bench-quick
bench: kernels build
	GOOS= GOARCH= $(GO) run ./bench/cmd/bootbench -kernels $(KERNELS) $(BENCHFLAGS)

bench-quick: kernels build
	GOOS= GOARCH= $(GO) run ./bench/cmd/bootbench -kernels $(KERNELS) -quick $(BENCHFLAGS)

fuzz:
	@$(GO) list -f '{{.ImportPath}} {{.Dir}}' ./... | while read pkg dir; do \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
			echo "fuzz $$pkg $$f for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf $(OUT)

FORCE:
