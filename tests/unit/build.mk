# tests/unit/build.mk - every tests/unit/test_<name>.c becomes the cmocka program
# $(B)/tests/unit/test_<name>, listed in UNIT_TESTS (tests/run.sh runs them).
#
# One generic rule links them all: the test's own object, then the archives of the
# parts (only the members a test needs are pulled in), then the system libraries.

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(B)/%)
UNIT_TESTS += $(UNIT_BINS)
UNIT_LINK := $(RELAY_LIB) $(API_LIB) $(ARCHIVER_LIB) $(ARCHIVE_LIB) $(COMMON_LIB)

# Tests include the headers of the module they test by name ("stomp.h").
$(B)/tests/unit/%.o: CFLAGS += -Iws-relay -Ifcgi-api -Iarchive -Iarchiver

$(UNIT_BINS): $(B)/tests/unit/%: $(B)/tests/unit/%.o $(UNIT_LINK)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(UNIT_LINK) $(LIBS) $(ARCHIVE_LIBS) -lcmocka
