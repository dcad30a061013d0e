/*
 * relay/store_nats_ops.c's reading of JetStream's answer to a message
 * delete, on its own (answers as nats-server 2.9 gives them): removed,
 * gone already (another node or an earlier call removed it), or a
 * failure whose message keeps what the server said (its err_code and
 * description), which an operator needs. JetStream answers every failed
 * delete with err_code 10057 and says why in the description: only "no
 * message found" and "stream store EOF" mean gone already.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "store_nats.h"

#define ANSWER "{\"type\":\"io.nats.jetstream.api.v1.stream_msg_delete_response\","

static int answer(struct nats_store *s, const char *json)
{
    natsMsg *m = NULL;
    int rc;

    CHECK(natsMsg_Create(&m, "_INBOX.x", NULL, json, (int)strlen(json)) == NATS_OK);
    s->failure[0] = '\0';
    rc = nats_delete_answer(s, m, "delete");
    natsMsg_Destroy(m);
    return rc;
}

static void expect_failure(struct nats_store *s, const char *json, const char *description)
{
    CHECK(answer(s, json) == -1);
    if (strstr(s->failure, description) == NULL || strstr(s->failure, "err_code") == NULL) {
        fprintf(stderr, "failure \"%s\" lacks the err_code or \"%s\"\n", s->failure, description);
        exit(1);
    }
}

int main(void)
{
    struct nats_store *s = calloc(1, sizeof(*s));

    CHECK(s != NULL && nats_Open(-1) == NATS_OK);
    CHECK(answer(s, ANSWER "\"success\":true}") == 1);
    CHECK(answer(s, ANSWER "\"error\":{\"code\":500,\"err_code\":10057,"
                           "\"description\":\"no message found\"}}") == 0);
    CHECK(answer(s, ANSWER "\"error\":{\"code\":500,\"err_code\":10057,"
                           "\"description\":\"stream store EOF\"}}") == 0);
    CHECK(answer(s, ANSWER "\"error\":{\"code\":404,\"err_code\":10037,"
                           "\"description\":\"no message found\"}}") == 0);
    /* A stream that denies deletes (deny_delete): the envelope is still there. */
    expect_failure(s,
                   ANSWER "\"error\":{\"code\":500,\"err_code\":10057,"
                          "\"description\":\"message delete not permitted\"}}",
                   "message delete not permitted");
    expect_failure(s,
                   ANSWER "\"error\":{\"code\":404,\"err_code\":10059,"
                          "\"description\":\"stream not found\"}}",
                   "stream not found");
    CHECK(nats_delete_answer(s, NULL, "delete") == -1 && strstr(s->failure, "no answer") != NULL);
    free(s);
    nats_Close();
    printf("relay nats delete answer: ok\n");
    return 0;
}
