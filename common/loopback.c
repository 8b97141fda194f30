/* loopback.c - loopback address checks; see loopback.h. */
#include "loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static bool v4_loopback(const struct in_addr *a)
{
    return (ntohl(a->s_addr) >> 24) == 127;
}

static bool v6_loopback(const struct in6_addr *a)
{
    if (IN6_IS_ADDR_LOOPBACK(a)) return true;
    if (IN6_IS_ADDR_V4MAPPED(a)) return a->s6_addr[12] == 127;
    return false;
}

bool loopback_sockaddr(const struct sockaddr *sa, socklen_t len)
{
    if (!sa || len < (socklen_t)sizeof sa->sa_family) return false;
    switch (sa->sa_family) {
    case AF_INET:
        return len >= (socklen_t)sizeof(struct sockaddr_in) &&
               v4_loopback(&((const struct sockaddr_in *)sa)->sin_addr);
    case AF_INET6:
        return len >= (socklen_t)sizeof(struct sockaddr_in6) &&
               v6_loopback(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    case AF_UNIX:
        return true;
    default:
        return false;
    }
}

bool loopback_text(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (!addr || !*addr) return false;
    if (inet_pton(AF_INET, addr, &a4) == 1) return v4_loopback(&a4);
    if (inet_pton(AF_INET6, addr, &a6) == 1) return v6_loopback(&a6);
    return false;
}

bool loopback_fd(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) return false;
    return loopback_sockaddr((const struct sockaddr *)&ss, len);
}
