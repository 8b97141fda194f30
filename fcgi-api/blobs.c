/* blobs.c - files on disk; see blobs.h. */
#include "blobs.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define TMP_MAX_AGE 3600

int blobs_init(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    if ((mkdir(dir, 0755) != 0 && errno != EEXIST) || (mkdir(tmp, 0755) != 0 && errno != EEXIST)) {
        log_error("start", "problem=\"cannot create FILES_DIR\" dir=%s errno=%d", log_q(0, dir), errno);
        return -1;
    }
    DIR *d = opendir(tmp);
    if (!d) return -1;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strncmp(e->d_name, "up-", 3) != 0) continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && now - st.st_mtime > TMP_MAX_AGE)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    return 0;
}

int blobs_valid_sha(const char *s)
{
    return strlen(s) == BLOB_SHA_HEX && strspn(s, "0123456789abcdef") == BLOB_SHA_HEX;
}

void blobs_path(const char *dir, const char *sha, const char *suffix, char *out)
{
    snprintf(out, PATH_MAX, "%s/%.2s/%s%s", dir, sha, sha, suffix);
}

int blobs_tmp_name(const char *dir, char *out)
{
    snprintf(out, PATH_MAX, "%s/tmp/up-XXXXXX", dir);
    int fd = mkstemp(out);
    if (fd < 0) {
        log_error("upload", "problem=\"cannot create a temporary file\" errno=%d", errno);
        return -1;
    }
    close(fd);
    return 0;
}

chat_rc blobs_receive(const char *dir, api_req *req, long long max, blob_tmp *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s/tmp/up-XXXXXX", dir);
    int fd = mkstemp(t->path);
    if (fd < 0) {
        log_error("upload", "problem=\"cannot create a temporary file\" errno=%d", errno);
        return CHAT_EINTERNAL;
    }
    chat_rc rc = CHAT_OK;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    char *chunk = malloc(CHUNK);
    if (!chunk) abort();
    for (;;) {
        long n = api_body_read(req, chunk, CHUNK);
        if (n < 0) {
            rc = CHAT_EMALFORMED;
            break;
        }
        if (n == 0) break;
        if (t->size + n > max) {
            rc = CHAT_ETOOLARGE;
            break;
        }
        crypto_hash_sha256_update(&h, (const unsigned char *)chunk, (unsigned long long)n);
        for (long off = 0; off < n;) {
            ssize_t w = write(fd, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                log_error("upload", "problem=\"cannot write a temporary file\" errno=%d", errno);
                rc = CHAT_EINTERNAL;
                break;
            }
            off += w;
        }
        if (rc != CHAT_OK) break;
        t->size += n;
    }
    free(chunk);
    if (rc == CHAT_OK && req->body_len >= 0 && t->size != req->body_len) rc = CHAT_EMALFORMED;
    if (close(fd) != 0 && rc == CHAT_OK) rc = CHAT_EINTERNAL;
    if (rc != CHAT_OK) {
        unlink(t->path);
        t->path[0] = '\0';
        return rc;
    }
    unsigned char md[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, md);
    sodium_bin2hex(t->sha, sizeof t->sha, md, sizeof md);
    return CHAT_OK;
}

/* fsync the file or directory at path. */
static int sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

chat_rc blobs_commit(const char *dir, const char *tmp, const char *sha, const char *suffix)
{
    char sub[PATH_MAX], final[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%.2s", dir, sha);
    blobs_path(dir, sha, suffix, final);
    if (mkdir(sub, 0755) != 0 && errno != EEXIST) goto fail;
    struct stat st;
    if (stat(final, &st) == 0 && S_ISREG(st.st_mode)) {
        unlink(tmp); /* the same bytes are there already */
        return CHAT_OK;
    }
    if (chmod(tmp, 0644) != 0 || sync_path(tmp, O_RDONLY) != 0) goto fail;
    if (rename(tmp, final) != 0) goto fail;
    if (sync_path(sub, O_RDONLY | O_DIRECTORY) != 0) goto fail;
    return CHAT_OK;
fail:
    log_error("upload", "problem=\"cannot store a file\" errno=%d", errno);
    unlink(tmp);
    return CHAT_EINTERNAL;
}
