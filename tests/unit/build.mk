# tests/unit/build.mk - every tests/unit/test_<name>.c becomes the cmocka program
# $(B)/tests/unit/test_<name>, listed in UNIT_TESTS (tests/run.sh runs them).
#
# One generic rule links them all: the test's own object, any extra objects it names
# below, then UNIT_LINK, then the system libraries. UNIT_LINK is only libcommon for
# now; once ws-relay/build.mk and fcgi-api/build.mk provide their archives, set
#     UNIT_LINK := $(B)/librelay.a $(B)/libapi.a $(COMMON_LIB)
# (in one of those fragments or here) and delete the per-test object lines.

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(B)/%)
UNIT_TESTS += $(UNIT_BINS)
UNIT_LINK ?= $(COMMON_LIB)

# Tests include the headers of the module they test by name ("stomp.h").
$(B)/tests/unit/%.o: CFLAGS += -Iws-relay -Ifcgi-api

# Extra objects per test, until the archives above exist.
$(B)/tests/unit/test_stomp: $(B)/ws-relay/stomp.o
$(B)/tests/unit/test_sockjs_frame: $(B)/ws-relay/sockjs_frame.o

$(UNIT_BINS): $(B)/tests/unit/%: $(B)/tests/unit/%.o $(UNIT_LINK)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(UNIT_LINK) $(LIBS) -lcmocka
