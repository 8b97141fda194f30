# tests/bench/build.mk - the load generator and the `make bench` recipe.
#
# Every tests/bench/*.c is part of one program, $(B)/tests/bench/loadgen (listed in
# ALL_BINS so `make all` and `make test` build it, the latter under the sanitizers for
# tests/bench/smoke.sh). `make bench` installs the benchmark-only packages (wrk,
# rabbitmq-server, linux-perf), builds everything without sanitizers into
# build/release and runs tests/bench/bench.sh, which writes docs/BENCHMARKS.md.

LG_SRCS := $(wildcard tests/bench/*.c)
LG_OBJS := $(LG_SRCS:%.c=$(B)/%.o)
LOADGEN := $(B)/tests/bench/loadgen
ALL_BINS += $(LOADGEN)

$(LOADGEN): $(LG_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(LG_OBJS) $(COMMON_LIB) $(LIBS)

bench:
	@DEPS_BENCH=1 scripts/deps.sh
	@$(MAKE) --no-print-directory SANITIZE= B=build/release all
	@B=build/release tests/bench/bench.sh

# The search benchmark's generator and query driver (tests/bench/search_bench.sh),
# a program of its own on the archive library.
SEARCH_BENCH := $(B)/tests/bench/search_bench
ALL_BINS += $(SEARCH_BENCH)
$(B)/tests/bench/search/%.o: CFLAGS += -Iarchive $(shell pkg-config --cflags sqlite3 libpq 2>/dev/null)

$(SEARCH_BENCH): $(B)/tests/bench/search/search_bench.o $(ARCHIVE_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(ARCHIVE_LIB) $(COMMON_LIB) $(LIBS) $(ARCHIVE_LIBS)
