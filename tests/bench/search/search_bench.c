/* search_bench.c - the search benchmark's two halves, through archive/archive.h as
 * chat-api and chat-archiver use it:
 *
 *   search_bench gen URL N [ROOMS]   write N generated messages (Korean and English
 *                                    words, Zipf-distributed over 3,000 of each, a
 *                                    fixed seed, so both back ends get the same
 *                                    corpus) into the archive at URL, spread over
 *                                    ROOMS rooms (default 200), by the fastest bulk
 *                                    path of each back end (the schema is the one
 *                                    archive_open makes; see bulk_sqlite, bulk_pg);
 *                                    prints "gen n=.. s=.."
 *   search_bench query URL Q [MEMBER_ROOMS]
 *                                    Q queries of one, two and three words each (words
 *                                    taken from generated messages, Korean ones without
 *                                    their particles and English ones sometimes cut to
 *                                    a prefix, so prefix matching is exercised), as one
 *                                    member of MEMBER_ROOMS rooms (default 20): the
 *                                    API's work per request (query_parse, archive_search
 *                                    of limit 21, a snippet per result) timed with a
 *                                    monotonic clock; prints one "result words=K ..."
 *                                    line per K with p50/p90/p99/max in microseconds
 *
 * Single-threaded, one handle: what one chat-api process does for one request. The
 * loaders know the archive's schema (table, trigger and index names): a benchmark
 * may; nothing else outside archive/ does. */
#include "archive.h"
#include "query.h"
#include "util.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ko[] = {
    "채팅", "서버", "메시지", "친구", "회의", "프로젝트", "일정", "점심", "저녁", "주말", "사진", "파일",
    "문서", "코드", "버그", "배포", "테스트", "데이터", "검색", "방", "사용자", "비밀번호", "알림", "휴가",
    "커피", "날씨", "영화", "음악", "운동", "여행", "학교", "회사", "가족", "생일", "선물", "시간",
    "오늘", "내일", "어제", "다음", "지난주", "이번주", "아침", "오후", "밤", "전화", "이메일", "질문",
    "대답", "문제", "해결", "결과", "계획", "준비", "시작", "마감", "보고서", "발표", "자료", "링크",
    "화면", "디자인", "기능", "요청", "변경", "리뷰", "설정", "로그", "성능", "속도", "메모리", "네트워크",
    "한국어", "영어", "번역", "공부", "책", "뉴스", "게임", "축구", "야구", "서울", "부산", "제주도",
};
static const char *const particles[] = {"", "", "", "에서", "을", "를", "이", "가", "은", "는", "으로", "도", "만", "에게", "와", "하고"};
static const char *const en[] = {
    "chat", "server", "message", "friend", "meeting", "project", "schedule", "lunch", "dinner", "weekend",
    "photo", "file", "document", "code", "bug", "deploy", "release", "test", "data", "search", "room", "user",
    "password", "notification", "holiday", "coffee", "weather", "movie", "music", "running", "travel",
    "school", "company", "family", "birthday", "present", "time", "today", "tomorrow", "yesterday", "next",
    "last", "morning", "afternoon", "night", "phone", "email", "question", "answer", "problem", "solution",
    "result", "plan", "ready", "start", "deadline", "report", "slides", "link", "screen", "design", "feature",
    "request", "change", "review", "settings", "logs", "performance", "latency", "memory", "network",
    "korean", "english", "translation", "study", "book", "news", "game", "football", "baseball", "seoul",
    "busan", "jeju", "the", "a", "is", "are", "we", "you", "it", "this", "that", "and", "or", "for", "with",
    "please", "thanks", "great", "sure", "maybe", "later", "soon", "now", "again", "done", "check", "look",
};
#define NKO (sizeof ko / sizeof ko[0])
#define NEN (sizeof en / sizeof en[0])
#define NPART (sizeof particles / sizeof particles[0])

/* Synthetic words fill the long tail of the vocabulary (real chat has thousands of
 * distinct words; a few hundred would make every word match a large share of the
 * corpus): Hangul syllables and Latin consonant-vowel pairs. */
static const char *const ko_syl[] = {"가", "나", "다", "라", "마", "바", "사", "아", "자", "차", "카", "타", "파", "하", "고",
                                     "노", "도", "로", "모", "보", "소", "오", "조", "초", "구", "누", "두", "루", "무", "부",
                                     "수", "우", "주", "기", "니", "디", "리", "미", "비", "시", "지", "한", "국", "민", "정"};
static const char *const en_syl[] = {"ba", "ce", "di", "fo", "gu", "ha", "ke", "li", "mo", "nu", "pa", "re", "si", "to", "vu",
                                     "wa", "xe", "yo", "za", "bri", "cla", "dre", "fla", "gro", "pla", "str", "tri", "sho", "cha", "the"};
#define VOCAB 3000 /* words per language */
static char *vocab_ko[VOCAB], *vocab_en[VOCAB];
static double zipf_cdf[VOCAB];

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned long long next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static double uniform(void)
{
    return (double)(next_rand() >> 11) / 9007199254740992.0;
}

/* A word rank in [0, VOCAB), Zipf-distributed (s = 1): rank 0 is the most frequent. */
static size_t zipf(void)
{
    double u = uniform() * zipf_cdf[VOCAB - 1];
    size_t lo = 0, hi = VOCAB - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (zipf_cdf[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The vocabularies: the real words first (the frequent ranks), then synthetic ones,
 * each distinct; the same on every run (own generator state). */
static void vocab_init(void)
{
    unsigned long long saved = rng;
    rng = 0x5EED5EED5EEDull;
    for (size_t i = 0; i < VOCAB; i++) {
        zipf_cdf[i] = (i ? zipf_cdf[i - 1] : 0) + 1.0 / (double)(i + 1);
        char w[64];
        if (i < NKO) {
            vocab_ko[i] = xstrdup(ko[i]);
        } else {
            for (;;) {
                size_t n = 2 + next_rand() % 2, o = 0;
                for (size_t k = 0; k < n; k++) o += (size_t)snprintf(w + o, sizeof w - o, "%s", ko_syl[next_rand() % (sizeof ko_syl / sizeof ko_syl[0])]);
                int dup = 0;
                for (size_t j = 0; j < i && !dup; j++) dup = strcmp(vocab_ko[j], w) == 0;
                if (!dup) break;
            }
            vocab_ko[i] = xstrdup(w);
        }
        if (i < NEN) {
            vocab_en[i] = xstrdup(en[i]);
        } else {
            for (;;) {
                size_t n = 2 + next_rand() % 3, o = 0;
                for (size_t k = 0; k < n; k++) o += (size_t)snprintf(w + o, sizeof w - o, "%s", en_syl[next_rand() % (sizeof en_syl / sizeof en_syl[0])]);
                int dup = 0;
                for (size_t j = 0; j < i && !dup; j++) dup = strcmp(vocab_en[j], w) == 0;
                if (!dup) break;
            }
            vocab_en[i] = xstrdup(w);
        }
    }
    rng = saved;
}

/* One message text: 4-19 words, Korean-led or English-led, into out[cap]. */
static void gen_text(char *out, size_t cap)
{
    size_t words = 4 + next_rand() % 16, o = 0;
    int korean = next_rand() % 2;
    out[0] = '\0';
    for (size_t w = 0; w < words && o + 64 < cap; w++) {
        int k = korean ? next_rand() % 10 < 8 : next_rand() % 10 < 2;
        if (k) o += (size_t)snprintf(out + o, cap - o, "%s%s%s", w ? " " : "", vocab_ko[zipf()], particles[next_rand() % NPART]);
        else o += (size_t)snprintf(out + o, cap - o, "%s%s", w ? " " : "", vocab_en[zipf()]);
    }
}

/* One generated row: the columns as text, in buffers that live until the next call. */
typedef struct row {
    char id[24], room[16], sender[16], text[512], body[900], off[24], ts[24];
} row;

static void gen_row(long i, int rooms, long long *seq, long long *ts, row *r)
{
    int k = (int)(next_rand() % (unsigned)rooms);
    snprintf(r->id, sizeof r->id, "m%09ld", i);
    snprintf(r->room, sizeof r->room, "room%04d", k);
    snprintf(r->sender, sizeof r->sender, "user%04d", (int)(next_rand() % 1000));
    gen_text(r->text, sizeof r->text);
    *ts += (long long)(next_rand() % 2000);
    long long off = ++seq[k];
    snprintf(r->off, sizeof r->off, "%lld", off);
    snprintf(r->ts, sizeof r->ts, "%lld", *ts);
    snprintf(r->body, sizeof r->body,
             "{\"type\":\"CHAT\",\"id\":\"%s\",\"roomId\":\"%s\",\"senderId\":\"%s\",\"sender\":\"User %s\","
             "\"message\":\"%s\",\"ts\":%lld,\"offset\":%lld,\"epoch\":\"benchepoch\"}",
             r->id, r->room, r->sender, r->sender + 4, r->text, *ts, off);
}

#define COLS "id, room_id, epoch, \"offset\", ts, sender_id, text, body"

static int sq_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
    fprintf(stderr, "search_bench: sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
    return -1;
}

/* SQLite: rows straight into messages with the insert trigger dropped, then one
 * FTS5 'rebuild' (what a long-running archive's index looks like after merges) and
 * the trigger back: minutes faster than a million trigger calls. */
static int bulk_sqlite(const char *path, long n, int rooms)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL, *trig = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) return fprintf(stderr, "search_bench: open %s\n", path), 1;
    if (sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_ai'", -1,
                           &trig, NULL) != SQLITE_OK || sqlite3_step(trig) != SQLITE_ROW)
        return fprintf(stderr, "search_bench: no trigger messages_ai: %s\n", sqlite3_errmsg(db)), 1;
    char *trigger_sql = xstrdup((const char *)sqlite3_column_text(trig, 0));
    sqlite3_finalize(trig);
    if (sq_exec(db, "PRAGMA synchronous=OFF") || sq_exec(db, "DROP TRIGGER messages_ai") || sq_exec(db, "BEGIN")) return 1;
    if (sqlite3_prepare_v2(db, "INSERT INTO messages(" COLS ") VALUES (?1, ?2, 'benchepoch', ?3, ?4, ?5, ?6, ?7)", -1, &st,
                           NULL) != SQLITE_OK)
        return fprintf(stderr, "search_bench: %s\n", sqlite3_errmsg(db)), 1;
    long long *seq = xcalloc((size_t)rooms, sizeof *seq), ts = 1767225600000LL;
    row r;
    for (long i = 0; i < n; i++) {
        gen_row(i, rooms, seq, &ts, &r);
        sqlite3_bind_text(st, 1, r.id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r.room, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, atoll(r.off));
        sqlite3_bind_int64(st, 4, atoll(r.ts));
        sqlite3_bind_text(st, 5, r.sender, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r.text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, r.body, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) return fprintf(stderr, "search_bench: insert: %s\n", sqlite3_errmsg(db)), 1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (sq_exec(db, "COMMIT") || sq_exec(db, "INSERT INTO messages_fts(messages_fts) VALUES('rebuild')") ||
        sq_exec(db, trigger_sql) || sq_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"))
        return 1;
    free(trigger_sql);
    free(seq);
    sqlite3_close(db);
    return 0;
}

static int pg_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) fprintf(stderr, "search_bench: postgresql: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Append s to b for COPY's text format (backslash, tab, newline escaped). */
static size_t copy_field(char *b, size_t o, const char *s, char end)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '\t' || *s == '\n') {
            b[o++] = '\\';
            b[o++] = *s == '\t' ? 't' : *s == '\n' ? 'n' : '\\';
        } else {
            b[o++] = *s;
        }
    }
    b[o++] = end;
    return o;
}

/* PostgreSQL: COPY into messages with the GIN index dropped, then the index built
 * again from its own definition in one pass, and ANALYZE. */
static int bulk_pg(const char *url, long n, int rooms)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) return fprintf(stderr, "search_bench: %s", PQerrorMessage(c)), 1;
    PGresult *r = PQexec(c, "SELECT indexdef FROM pg_indexes WHERE tablename = 'messages' AND indexname = 'messages_tsv'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        return fprintf(stderr, "search_bench: no index messages_tsv\n"), 1;
    char *indexdef = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (pg_ok(c, "SET maintenance_work_mem = '256MB'") || pg_ok(c, "DROP INDEX messages_tsv")) return 1;
    r = PQexec(c, "COPY messages(" COLS ") FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) return fprintf(stderr, "search_bench: COPY: %s", PQresultErrorMessage(r)), 1;
    PQclear(r);
    enum { CHUNK = 1 << 20 };
    char *b = xmalloc(CHUNK + 4096);
    size_t o = 0;
    long long *seq = xcalloc((size_t)rooms, sizeof *seq), ts = 1767225600000LL;
    row w;
    for (long i = 0; i < n; i++) {
        gen_row(i, rooms, seq, &ts, &w);
        o = copy_field(b, o, w.id, '\t');
        o = copy_field(b, o, w.room, '\t');
        o = copy_field(b, o, "benchepoch", '\t');
        o = copy_field(b, o, w.off, '\t');
        o = copy_field(b, o, w.ts, '\t');
        o = copy_field(b, o, w.sender, '\t');
        o = copy_field(b, o, w.text, '\t');
        o = copy_field(b, o, w.body, '\n');
        if (o > CHUNK || i == n - 1) {
            if (PQputCopyData(c, b, (int)o) != 1) return fprintf(stderr, "search_bench: %s", PQerrorMessage(c)), 1;
            o = 0;
        }
    }
    if (PQputCopyEnd(c, NULL) != 1) return 1;
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) return fprintf(stderr, "search_bench: COPY: %s", PQresultErrorMessage(r)), 1;
    PQclear(r);
    while ((r = PQgetResult(c))) PQclear(r);
    if (pg_ok(c, indexdef) || pg_ok(c, "ANALYZE messages") || pg_ok(c, "CHECKPOINT")) return 1;
    free(indexdef);
    free(b);
    free(seq);
    PQfinish(c);
    return 0;
}

static int gen(const char *url, long n, int rooms)
{
    char err[256];
    archive *a = archive_open(url, err, sizeof err); /* the schema, as the archiver makes it */
    if (!a) {
        fprintf(stderr, "search_bench: %s\n", err);
        return 1;
    }
    archive_close(a);
    long long t0 = mono_us();
    int pg = strncmp(url, "postgres", 8) == 0;
    int rc = pg ? bulk_pg(url, n, rooms) : bulk_sqlite(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, n, rooms);
    if (rc == 0) printf("gen n=%ld rooms=%d s=%.1f\n", n, rooms, (double)(mono_us() - t0) / 1e6);
    return rc;
}

typedef struct bench_page {
    const query *q;
    int rows;
} bench_page;

static void on_row(const archive_msg *m, void *ud)
{
    bench_page *p = ud;
    query_snippet sn;
    query_snippet_build(p->q, m->text, strlen(m->text), 0, &sn);
    query_snippet_free(&sn);
    p->rows++;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* A query of `words` words picked from one generated text (so it usually has hits). */
static void gen_query(int words, char *out, size_t cap)
{
    char t[512], *w[32];
    size_t nw = 0;
    gen_text(t, sizeof t);
    for (char *s = strtok(t, " "); s && nw < 32; s = strtok(NULL, " ")) w[nw++] = s;
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < words; i++) {
        char *x = w[next_rand() % nw];
        char word[64];
        snprintf(word, sizeof word, "%s", x);
        if ((unsigned char)word[0] >= 0x80) {
            /* Korean: the bare noun (the text has it with a particle): prefix matching */
            for (size_t j = 0; j < NPART; j++) {
                size_t lw = strlen(word), lp = strlen(particles[j]);
                if (lp && lw > lp && strcmp(word + lw - lp, particles[j]) == 0) {
                    word[lw - lp] = '\0';
                    break;
                }
            }
        } else if (strlen(word) > 4 && next_rand() % 3 == 0) {
            word[3 + next_rand() % (strlen(word) - 3)] = '\0'; /* an English prefix */
        }
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " " : "", word);
    }
}

static int run_queries(const char *url, int nq, int member_rooms)
{
    char err[256];
    archive *a = archive_open(url, err, sizeof err);
    if (!a) {
        fprintf(stderr, "search_bench: %s\n", err);
        return 1;
    }
    char (*rooms)[16] = xcalloc((size_t)member_rooms, sizeof *rooms);
    const char **rp = xcalloc((size_t)member_rooms, sizeof *rp);
    for (int i = 0; i < member_rooms; i++) {
        snprintf(rooms[i], sizeof rooms[i], "room%04d", i * 7 % 200);
        rp[i] = rooms[i];
    }
    long long *lat = xcalloc((size_t)nq, sizeof *lat);
    rng = 0xC0FFEE1234567ull;
    for (int words = 1; words <= 3; words++) {
        long long hits = 0, empty = 0;
        for (int i = -20; i < nq; i++) { /* 20 warm-up queries first */
            char qs[256];
            gen_query(words, qs, sizeof qs);
            long long t0 = mono_us();
            query q;
            if (query_parse(qs, strlen(qs), &q) != QUERY_OK) continue;
            archive_query aq = {.words = q.texts, .nwords = q.n, .rooms = rp, .nrooms = (size_t)member_rooms,
                                .limit = 21, .skip = 0};
            bench_page p = {.q = &q};
            if (archive_search(a, &aq, on_row, &p) < 0) {
                fprintf(stderr, "search_bench: search: %s\n", archive_error(a));
                return 1;
            }
            query_free(&q);
            if (i < 0) continue;
            lat[i] = mono_us() - t0;
            hits += p.rows;
            empty += p.rows == 0;
        }
        qsort(lat, (size_t)nq, sizeof *lat, cmp_ll);
        printf("result words=%d queries=%d p50_us=%lld p90_us=%lld p99_us=%lld max_us=%lld mean_rows=%.1f empty=%lld\n",
               words, nq, lat[nq / 2], lat[nq * 9 / 10], lat[nq * 99 / 100], lat[nq - 1], (double)hits / nq, empty);
        fflush(stdout);
    }
    archive_close(a);
    free(rooms), free(rp), free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    vocab_init();
    if (argc >= 4 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], atol(argv[3]), argc > 4 ? atoi(argv[4]) : 200);
    if (argc >= 4 && strcmp(argv[1], "query") == 0)
        return run_queries(argv[2], atoi(argv[3]) > 0 ? atoi(argv[3]) : 100, argc > 4 ? atoi(argv[4]) : 20);
    fprintf(stderr, "usage: search_bench gen URL N [ROOMS] | query URL Q [MEMBER_ROOMS]\n");
    return 2;
}
