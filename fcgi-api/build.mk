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

$(API_LIB): $(filter-out $(API_MAIN_OBJ),$(API_OBJS))
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(API_BIN): $(API_MAIN_OBJ) $(API_LIB) $(COMMON_LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(API_MAIN_OBJ) $(API_LIB) $(COMMON_LIB) $(LIBS)

ALL_BINS += $(API_BIN)

# Unit tests of this part (tests/unit/test_router.c, tests/unit/test_api_*.c) are
# built by the generic rule in tests/unit/build.mk, which links the objects named as
# prerequisites: name every API object but main.o. (Harmless if UNIT_LINK later gains
# libapi.a: the archive's members are then simply not needed.)
API_UNIT_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/unit/test_router.c tests/unit/test_api_*.c))
$(API_UNIT_BINS): $(filter-out $(API_MAIN_OBJ),$(API_OBJS))
