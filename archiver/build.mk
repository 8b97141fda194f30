# archiver/build.mk - chat-archiver: $(B)/archiver/chat-archiver, and $(B)/libarchiver.a
# (every archiver object except main.o) for unit tests. Links the archive back ends
# ($(ARCHIVE_LIB), archive/build.mk) and common/.

ARCHIVER_SRCS := $(wildcard archiver/*.c)
ARCHIVER_LIB_OBJS := $(filter-out $(B)/archiver/main.o,$(ARCHIVER_SRCS:%.c=$(B)/%.o))
ARCHIVER_LIB := $(B)/libarchiver.a
ARCHIVER_BIN := $(B)/archiver/chat-archiver

$(B)/archiver/%.o: CFLAGS += -Iarchive

$(ARCHIVER_LIB): $(ARCHIVER_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ARCHIVER_BIN): $(B)/archiver/main.o $(ARCHIVER_LIB) $(ARCHIVE_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(B)/archiver/main.o $(ARCHIVER_LIB) $(ARCHIVE_LIB) $(COMMON_LIB) $(LIBS) $(ARCHIVE_LIBS) -lpthread

ALL_BINS += $(ARCHIVER_BIN)
