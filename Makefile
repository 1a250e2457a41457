# lxsandbox — build, install, test.  See README.md and INSTALL.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/libexec
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
UNITDIR     ?= /lib/systemd/system
PAMDIR      ?= /lib/x86_64-linux-gnu/security
RUNDIR      ?= /run/lxsandbox
DESTDIR     ?=

B          := build
PKGS       := libseccomp libcap-ng inih libnl-3.0 libnl-route-3.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# The project's libraries are linked statically (glibc stays shared, for NSS):
# each shared object costs every exec a few hundred microseconds of loading and
# relocation, and sbx-run, the controller and the daemon are exec'd per launch.
PKG_LIBS   := -Wl,-Bstatic -lnl-route-3 -lnl-3 -lseccomp -lcap-ng -linih -Wl,-Bdynamic -lpthread -lm

CC       ?= cc
WERROR   ?= -Werror
# -iquote: sandboxd/seccomp.h must not hide libseccomp's <seccomp.h>.
CPPFLAGS += -D_GNU_SOURCE -Ilib -iquote sandboxd \
            -DSBX_POLICY_DIR='"$(SYSCONFDIR)/lxsandbox/policies"' \
            -DSBX_RUN_DIR='"$(RUNDIR)"' \
            -DSBX_NETWORK_DIR='"$(SYSCONFDIR)/lxsandbox/networks"' \
            -DSBX_LIBEXEC_DIR='"$(LIBEXECDIR)/lxsandbox"'
ifeq ($(SANITIZE),1)
CFLAGS   ?= -O1 -g
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
else
CPPFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
CFLAGS   ?= -O2 -g
endif
CFLAGS   += -std=gnu11 -Wall -Wextra $(WERROR) -Wformat=2 -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wmissing-declarations -Wpointer-arith -Wcast-align \
            -Wwrite-strings -Wundef -Wnull-dereference -Wimplicit-fallthrough -Wvla \
            -Wno-missing-field-initializers -fstack-protector-strong -fstack-clash-protection \
            -fcf-protection -fno-strict-overflow -fno-delete-null-pointer-checks \
            -fPIE $(PKG_CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed

LIB_SRCS    := $(wildcard lib/*.c)
DAEMON_MAINS := sandboxd/main.c sandboxd/controller-main.c sandboxd/reaper-main.c
DAEMON_SRCS := $(filter-out $(DAEMON_MAINS),$(wildcard sandboxd/*.c))
CLIENT_MAINS := sbx-run/sbx-run.c sbx-run/sbxctl.c
CLIENT_SRCS := $(filter-out $(CLIENT_MAINS),$(wildcard sbx-run/*.c))
UNIT_TESTS  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test-*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

PROGRAMS := $(B)/sandboxd $(B)/sandboxd-controller $(B)/sandboxd-reaper $(B)/sbx-run $(B)/sbxctl

all: $(PROGRAMS) $(B)/pam_lxsandbox.so

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libsbx.a: $(call obj,$(LIB_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(B)/libsbxd.a: $(call obj,$(DAEMON_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(B)/libsbxclient.a: $(call obj,$(CLIENT_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(B)/sandboxd: $(call obj,sandboxd/main.c) $(B)/libsbxd.a $(B)/libsbx.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/sandboxd-controller: $(call obj,sandboxd/controller-main.c) $(B)/libsbxd.a $(B)/libsbx.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The login containers' PID 1: libc only, nothing of the daemon's.
$(B)/sandboxd-reaper: $(call obj,sandboxd/reaper-main.c)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/sbx-run: $(call obj,sbx-run/sbx-run.c) $(B)/libsbxclient.a $(B)/libsbx.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/sbxctl: $(call obj,sbx-run/sbxctl.c) $(B)/libsbxclient.a $(B)/libsbxd.a $(B)/libsbx.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/%: $(call obj,tests/unit/%.c) $(B)/libsbxd.a $(B)/libsbxclient.a $(B)/libsbx.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(PKG_LIBS) -lcmocka \
		$(TEST_EXTRA_LIBS)

# The PAM module's test loads the built module through libpam.
$(B)/tests/test-pam: TEST_EXTRA_LIBS = -lpam
$(B)/tests/test-pam: $(B)/pam_lxsandbox.so

# The PAM module: position-independent objects of its own (libsbx.a is PIE),
# only the pam_sm_* symbols exported; libnl is the system's shared one (its
# static archive is not built for shared objects).
PAM_SRCS := pam_lxsandbox/pam_lxsandbox.c lib/protocol.c lib/fd-util.c
# Never sanitized: sshd, login and su load it, and an ASan library needs an ASan
# program (test-pam, built with ASan under SANITIZE=1, loads a plain one fine).
NO_SAN = -fsanitize=% -fno-sanitize-recover=%
PIC_CFLAGS = $(filter-out -fPIE $(NO_SAN),$(CFLAGS)) -fPIC
$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PIC_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/pam_lxsandbox.so: $(patsubst %.c,$(B)/pic/%.o,$(PAM_SRCS)) pam_lxsandbox/pam_lxsandbox.map
	$(CC) $(PIC_CFLAGS) $(filter-out -pie $(NO_SAN),$(LDFLAGS)) -shared -Wl,-z,defs \
		-Wl,--version-script=pam_lxsandbox/pam_lxsandbox.map -o $@ $(filter %.o,$^) \
		-lnl-3 -lpam

# The fuzz corpus replay links the fuzz targets.
$(B)/tests/test-fuzz-replay: $(call obj,tests/fuzz/fuzz-targets.c)

-include $(shell find $(B)/obj $(B)/pic -name '*.d' 2>/dev/null)

# ---- static analysis --------------------------------------------------------
C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(C_FILES)

check-format:
	clang-format --dry-run -Werror $(C_FILES)

lint:
	@! grep -nE '(^|[^_a-z])(sprintf|strcpy|strcat|strtok|atoi|system|popen|alloca)\(' \
		$(filter %.c,$(C_FILES)) || { echo "make lint: banned call above"; exit 1; }
	cppcheck --enable=warning,portability,performance --std=c11 --library=posix --inline-suppr \
		--error-exitcode=1 -D_GNU_SOURCE -Ilib -Isandboxd -q \
		--suppress=missingIncludeSystem --suppress=resourceLeak --suppress=memleak \
		lib sandboxd sbx-run pam_lxsandbox
	shellcheck -x tests/run-all.sh tests/integration/lib.bash .ci/run $(wildcard tools/*.sh) \
		$(wildcard tests/integration/*.bats) $(wildcard tests/security/*.bats) \
		$(wildcard tests/e2e/*.bats) tests/e2e/login-lib.bash \
		tests/bench/run-bench.sh tests/bench/login-bench.sh tests/cgv2/run.sh tests/cgv2/guest.sh

tidy:
	@mkdir -p build-tidy
	bear --output build-tidy/compile_commands.json -- $(MAKE) -B B=build-tidy all tests >/dev/null
	clang-tidy -p build-tidy $(filter-out tests/%,$(filter %.c,$(C_FILES))) --quiet

analyze:
	$(MAKE) -B B=build-analyze CFLAGS="-O2 -g -fanalyzer" WERROR= all

.PHONY: format check-format lint tidy analyze

# ---- dependencies -----------------------------------------------------------
DEB_PKGS := build-essential pkg-config libseccomp-dev libcap-ng-dev libinih-dev libnl-3-dev \
            libnl-route-3-dev libpam0g-dev libcmocka-dev bats bubblewrap util-linux iproute2 \
            procps valgrind python3 passwd qemu-system-x86 cpio nftables
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# The login tests (tests/e2e) run their own sshd on 127.0.0.1: the package's
	@# service must never start (a policy-rc.d that forbids it, ours only if none exists).
	@if ! dpkg -s openssh-server openssh-client >/dev/null 2>&1; then \
		echo "make deps: installing openssh-server openssh-client (service start forbidden)"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		made=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
			printf '#!/bin/sh\nexit 101\n' | $$sudo tee /usr/sbin/policy-rc.d >/dev/null && \
			$$sudo chmod 0755 /usr/sbin/policy-rc.d && made=1; fi; \
		$$sudo apt-get update -qq; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			openssh-server openssh-client; rc=$$?; \
		[ -z "$$made" ] || $$sudo rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi
	@# The cgroup v2 VM tests (tests/cgv2): Debian's cloud kernel and busybox-static,
	@# downloaded and unpacked into build/cgv2-cache (never installed on the host).
	@tests/cgv2/run.sh --setup-only || echo "make deps: warning: no kernel for tests/cgv2;" \
		"the cgroup v2 VM tests will be skipped (a failure under CI)"

# ---- tests ------------------------------------------------------------------
check: deps
	$(MAKE) all tests
	tests/run-all.sh

tests: $(UNIT_TESTS)

check-unit: all tests
	tests/run-all.sh unit

check-root: all tests
	tests/run-all.sh root

check-asan:
	$(MAKE) B=build-asan SANITIZE=1 all tests
	SBX_BUILD=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 tests/run-all.sh unit
	@# LeakSanitizer does not work in clone()d namespace children: leaks off for root tests.
	SBX_BUILD=build-asan ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 tests/run-all.sh root

check-valgrind: all tests
	SBX_VALGRIND=1 tests/run-all.sh unit

# libFuzzer campaign: make fuzz FUZZ_SECONDS=60 (clang; corpora grow in place).
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined $(filter-out -fPIE,$(CPPFLAGS)) \
	     $(PKG_CFLAGS)
FUZZ_SRCS = tests/fuzz/fuzz-targets.c sandboxd/policy.c sandboxd/seccomp.c $(LIB_SRCS) \
	    sandboxd/netconf.c sandboxd/net-util.c
fuzz:
	@mkdir -p build-fuzz
	for t in policy protocol netconf; do \
		$(FUZZ_CC) $(FUZZ_FLAGS) -o build-fuzz/fuzz-$$t tests/fuzz/fuzz-$$t.c $(FUZZ_SRCS) \
			$(PKG_LIBS) || exit 1; \
		mkdir -p build-fuzz/corpus-$$t; \
		build-fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=2048 \
			-artifact_prefix=tests/fuzz/corpus/$$t/crash- \
			build-fuzz/corpus-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

bench: all
	tests/bench/run-bench.sh
	tests/bench/login-bench.sh

clean:
	rm -rf build build-asan

.PHONY: all deps check tests check-unit check-root check-asan check-valgrind bench fuzz clean install uninstall

# ---- install ----------------------------------------------------------------
# Honours DESTDIR, PREFIX, BINDIR, SBINDIR, LIBEXECDIR, MANDIR, SYSCONFDIR and
# UNITDIR.  The programs have SYSCONFDIR, RUNDIR and LIBEXECDIR built in: give
# "make" and "make install" the same values.  Policies that already exist in
# SYSCONFDIR/lxsandbox/policies are kept, never overwritten.
INSTALL_MANS     := $(wildcard man/*.1 man/*.5 man/*.8)
INSTALL_POLICIES := $(wildcard policy/*.ini)
INSTALL_POLDIR    = $(DESTDIR)$(SYSCONFDIR)/lxsandbox/policies

install: all
	install -D -m 0755 $(B)/sandboxd $(DESTDIR)$(SBINDIR)/sandboxd
	install -D -m 0755 $(B)/sbx-run $(DESTDIR)$(BINDIR)/sbx-run
	install -D -m 0755 $(B)/sbxctl $(DESTDIR)$(BINDIR)/sbxctl
	install -D -m 0755 $(B)/sandboxd-controller \
		$(DESTDIR)$(LIBEXECDIR)/lxsandbox/sandboxd-controller
	install -D -m 0755 $(B)/sandboxd-reaper $(DESTDIR)$(LIBEXECDIR)/lxsandbox/sandboxd-reaper
	install -D -m 0644 $(B)/pam_lxsandbox.so $(DESTDIR)$(PAMDIR)/pam_lxsandbox.so
	install -d -m 0755 $(INSTALL_POLDIR)
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/lxsandbox/networks
	@for f in $(INSTALL_POLICIES); do \
		t="$(INSTALL_POLDIR)/$${f##*/}"; \
		if [ -e "$$t" ]; then \
			echo "keeping existing $$t"; \
		else \
			echo "install -m 0644 $$f $$t"; \
			install -m 0644 "$$f" "$$t" || exit 1; \
		fi; \
	done
	@for m in $(INSTALL_MANS); do \
		t="$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}"; \
		echo "install -D -m 0644 $$m $$t"; \
		install -D -m 0644 "$$m" "$$t" || exit 1; \
	done
	sed 's|@SBINDIR@|$(SBINDIR)|g' sandboxd/sandboxd.service >$(B)/sandboxd.service
	install -D -m 0644 $(B)/sandboxd.service $(DESTDIR)$(UNITDIR)/sandboxd.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sandboxd $(DESTDIR)$(BINDIR)/sbx-run $(DESTDIR)$(BINDIR)/sbxctl
	rm -f $(DESTDIR)$(LIBEXECDIR)/lxsandbox/sandboxd-controller
	rm -f $(DESTDIR)$(LIBEXECDIR)/lxsandbox/sandboxd-reaper
	rm -f $(DESTDIR)$(PAMDIR)/pam_lxsandbox.so
	rmdir $(DESTDIR)$(LIBEXECDIR)/lxsandbox 2>/dev/null || true
	rm -f $(foreach m,$(INSTALL_MANS),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(DESTDIR)$(UNITDIR)/sandboxd.service
	@echo "kept $(INSTALL_POLDIR): remove your policies by hand if you no longer want them"
