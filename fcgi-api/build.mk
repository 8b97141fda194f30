# fcgi-api/build.mk - the chat-api FastCGI responder.
#
#   $(B)/fcgi-api/chat-api   the program lighttpd starts (bin-path)
#   $(B)/libapi.a            every fcgi-api object except main.o, for unit tests
#
# Objects come from the generic $(B)/%.o rule of the top Makefile.

API_SRCS := $(wildcard fcgi-api/*.c)
API_OBJS := $(API_SRCS:%.c=$(B)/%.o)
API_MAIN_OBJ := $(B)/fcgi-api/main.o
API_LIB := $(B)/libapi.a
API_BIN := $(B)/fcgi-api/chat-api

# Uploads: libvips (thumbnails) and libmagic (types) for the files modules.
VIPS_CFLAGS := $(shell pkg-config --cflags vips 2>/dev/null)
VIPS_LIBS := $(shell pkg-config --libs vips 2>/dev/null) -lmagic
$(B)/fcgi-api/media.o: CFLAGS += $(VIPS_CFLAGS)

$(API_LIB): $(filter-out $(API_MAIN_OBJ),$(API_OBJS))
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Search and the history past Redis read the archive (archive/build.mk).
$(B)/fcgi-api/%.o: CFLAGS += -Iarchive

$(API_BIN): $(API_MAIN_OBJ) $(API_LIB) $(ARCHIVE_LIB) $(COMMON_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(API_MAIN_OBJ) $(API_LIB) $(ARCHIVE_LIB) $(COMMON_LIB) $(LIBS) $(ARCHIVE_LIBS) $(VIPS_LIBS)

ALL_BINS += $(API_BIN)
