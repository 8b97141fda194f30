# ws-relay/build.mk - the STOMP relay: $(B)/ws-relay/chat-relay, and $(B)/librelay.a
# (every ws-relay object except main.o) for unit tests. Objects come from the generic
# $(B)/%.o rule in the top Makefile; stomp.c and sockjs_frame.c are ordinary members.

RELAY_SRCS := $(wildcard ws-relay/*.c)
RELAY_LIB_OBJS := $(filter-out $(B)/ws-relay/main.o,$(RELAY_SRCS:%.c=$(B)/%.o))
RELAY_LIB := $(B)/librelay.a
RELAY_BIN := $(B)/ws-relay/chat-relay

$(RELAY_LIB): $(RELAY_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(RELAY_BIN): $(B)/ws-relay/main.o $(RELAY_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(B)/ws-relay/main.o $(RELAY_LIB) $(COMMON_LIB) $(LIBS)

ALL_BINS += $(RELAY_BIN) $(RELAY_LIB)
