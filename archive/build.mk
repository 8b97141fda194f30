# archive/build.mk - the archive back ends (SQLite, PostgreSQL) as $(B)/libarchive.a,
# linked into chat-archiver and chat-api.

ARCHIVE_SRCS := $(wildcard archive/*.c)
ARCHIVE_OBJS := $(ARCHIVE_SRCS:%.c=$(B)/%.o)
ARCHIVE_LIB := $(B)/libarchive.a
ARCHIVE_LIBS := $(shell pkg-config --libs sqlite3 libpq 2>/dev/null)

$(B)/archive/%.o: CFLAGS += $(shell pkg-config --cflags sqlite3 libpq 2>/dev/null)

$(ARCHIVE_LIB): $(ARCHIVE_OBJS)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
