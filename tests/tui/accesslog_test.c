/*
 * parley-agent's access log: entries chained in the relay audit log's
 * format are verified by the relay's own verifier (audit_verify, what
 * parley-audit verify runs), across restarts and a crash mid-line; an
 * entry altered, removed or reordered is caught; nothing but ids and
 * times is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "accesslog.h"
#include "audit.h"
#include "check.h"

static char dir[] = "/tmp/parley-accesslog-XXXXXX";
static char path[256];

static int verify(void)
{
    const char *paths[1] = {path};
    FILE *out = fopen("/dev/null", "w");
    int rc;

    CHECK(out != NULL);
    rc = audit_verify(paths, 1, NULL, out);
    fclose(out);
    return rc;
}

static char *slurp(size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 16);

    CHECK(f != NULL && buf != NULL);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void spill(const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    CHECK(f != NULL && fwrite(buf, 1, len, f) == len && fclose(f) == 0);
}

static void test_chain_verified(void)
{
    static const uint8_t conv[16] = {0xc0, 0xff, 0xee};
    struct accesslog l;
    struct stat st;
    char err[256], *log;
    size_t len;

    printf("access log: written, reopened and continued, verified by the relay's verifier\n");
    CHECK(accesslog_open(&l, path, "alice", err, sizeof(err)) == 0);
    CHECK(accesslog_record(&l, "viewed", conv, NULL) == 0);
    CHECK(accesslog_record(&l, "searched", conv, NULL) == 0);
    accesslog_close(&l);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(verify() == 0);
    CHECK(accesslog_open(&l, path, "alice", err, sizeof(err)) == 0);
    CHECK(accesslog_record(&l, "exported", conv, "\"scope\":\"customer\"") == 0);
    CHECK(accesslog_record(&l, "redacted", conv, "\"message\":2") == 0);
    accesslog_close(&l);
    CHECK(verify() == 0);
    log = slurp(&len);
    CHECK(strstr(log, "\"seq\":1,") != NULL && strstr(log, "\"event\":\"segment\"") != NULL);
    CHECK(strstr(log, "\"seq\":5,") != NULL &&
          strstr(log, "\"event\":\"redacted\",\"agent\":\"alice\",\"conversation\":"
                      "\"c0ffee00000000000000000000000000\",\"message\":2,") != NULL);

    /* A crash in the middle of a line: the torn line goes, the chain goes on. */
    spill(log, len);
    {
        FILE *f = fopen(path, "ab");
        CHECK(f != NULL && fputs("{\"seq\":6,\"ts\":\"2026-", f) >= 0 && fclose(f) == 0);
    }
    CHECK(verify() != 0);
    CHECK(accesslog_open(&l, path, "alice", err, sizeof(err)) == 0);
    CHECK(accesslog_record(&l, "viewed", conv, NULL) == 0);
    accesslog_close(&l);
    CHECK(verify() == 0);
    free(log);
}

static void test_tamper_caught(void)
{
    struct accesslog l;
    char err[256], *log, *p, *line2, *line3;
    size_t len;

    printf("access log: an entry altered, removed or reordered is caught\n");
    log = slurp(&len);
    /* Altered: another conversation id in entry 2. */
    p = strstr(log, "c0ffee");
    CHECK(p != NULL);
    p[0] = 'd';
    spill(log, len);
    CHECK(verify() == 1);
    p[0] = 'c';
    spill(log, len);
    CHECK(verify() == 0);
    /* Removed: entry 2 cut out. */
    line2 = strchr(log, '\n') + 1;
    line3 = strchr(line2, '\n') + 1;
    {
        size_t head = (size_t)(line2 - log), l2 = (size_t)(line3 - line2);
        char *cut = malloc(len);
        CHECK(cut != NULL);
        memcpy(cut, log, head);
        memcpy(cut + head, line3, len - head - l2);
        spill(cut, len - l2);
        CHECK(verify() == 1);
        /* Reordered: entries 2 and 3 swapped. */
        {
            char *line4 = strchr(line3, '\n') + 1;
            size_t l3 = (size_t)(line4 - line3);
            memcpy(cut, log, head);
            memcpy(cut + head, line3, l3);
            memcpy(cut + head + l3, line2, l2);
            memcpy(cut + head + l3 + l2, line4, len - head - l2 - l3);
            spill(cut, len);
            CHECK(verify() == 1);
        }
        free(cut);
    }
    /* A tampered last entry: the log refuses to go on from it rather than hide it. */
    log[len - 4] = log[len - 4] == '0' ? '1' : '0'; /* the last hex digit of its hash */
    spill(log, len);
    CHECK(accesslog_open(&l, path, "alice", err, sizeof(err)) == -1);
    CHECK(strstr(err, "parley-audit verify") != NULL);
    free(log);
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/agent.db.access", dir);
    umask(0);
    test_chain_verified();
    test_tamper_caught();
    unlink(path);
    rmdir(dir);
    printf("ok\n");
    return 0;
}
