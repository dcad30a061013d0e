/*
 * The conversation list model: sections and their order, the bell
 * condition, selection with Tab, unread counts, transcript order and
 * the delivery marks of own messages.
 */
#include <string.h>

#include "check.h"
#include "convlist.h"

static uint8_t id(int n, uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = (uint8_t)n;
    return out[0];
}

static void test_sections(void)
{
    struct convlist cl;
    uint8_t a[16], b[16], c[16];
    int order[8], entered;
    size_t n;

    convlist_init(&cl);
    id(1, a);
    id(2, b);
    id(3, c);
    CHECK(convlist_update(&cl, a, PARLEY_CONV_CLOSED, "support", &entered) == 0 && !entered);
    CHECK(cl.sel == 0);
    CHECK(convlist_update(&cl, b, PARLEY_CONV_QUEUED, "support", &entered) == 1 && entered);
    CHECK(convlist_update(&cl, c, PARLEY_CONV_ACTIVE, "vip", &entered) == 2 && !entered);
    CHECK(strcmp(cl.v[0].label, "010000") == 0);
    n = convlist_order(&cl, order, 8);
    CHECK(n == 3 && order[0] == 1 && order[1] == 2 && order[2] == 0);
    /* Requeued: the bell again; same state: no bell. */
    CHECK(convlist_update(&cl, b, PARLEY_CONV_QUEUED, NULL, &entered) == 1 && !entered);
    CHECK(strcmp(cl.v[1].queue, "support") == 0);
    CHECK(convlist_update(&cl, c, PARLEY_CONV_TAKEN, NULL, &entered) == 2 && !entered);
    CHECK(convlist_section(PARLEY_CONV_TAKEN) == SECTION_TRANSFERRED);
    CHECK(convlist_section(PARLEY_CONV_TRANSFERRED) == SECTION_TRANSFERRED);
    CHECK(convlist_update(&cl, c, PARLEY_CONV_QUEUED, NULL, &entered) == 2 && entered);
    /* Tab walks the display order and wraps. */
    convlist_update(&cl, c, PARLEY_CONV_ACTIVE, NULL, &entered);
    convlist_select(&cl, 1);
    convlist_step(&cl, 1);
    CHECK(cl.sel == 2);
    convlist_step(&cl, 1);
    CHECK(cl.sel == 0);
    convlist_step(&cl, 1);
    CHECK(cl.sel == 1);
    convlist_step(&cl, -1);
    CHECK(cl.sel == 0);
    /* Unread counts clear on selection. */
    cl.v[2].unread = 3;
    cl.v[1].unread = 1;
    CHECK(convlist_unread(&cl) == 4);
    convlist_select(&cl, 2);
    CHECK(convlist_unread(&cl) == 1 && convlist_selected(&cl) == &cl.v[2]);
    CHECK(convlist_find(&cl, b) == 1);
    convlist_free(&cl);
    CHECK(cl.n == 0 && cl.sel == -1);
}

static void test_transcript(void)
{
    struct convlist cl;
    struct tui_conv *c;
    struct tui_msg m;
    uint8_t a[16];
    int entered;

    convlist_init(&cl);
    id(9, a);
    convlist_update(&cl, a, PARLEY_CONV_ACTIVE, "support", &entered);
    c = &cl.v[0];
    memset(&m, 0, sizeof(m));
    m.time_ms = 1000;
    m.seq = 1;
    m.sender = "";
    m.text = "Bonjour";
    CHECK(conv_add(c, &m) == 0);
    m.time_ms = 3000;
    m.seq = 2;
    m.from_me = 1;
    m.sender = "Alice";
    m.text = "Je regarde";
    CHECK(conv_add(c, &m) == 0);
    m.seq = 3;
    m.time_ms = 4000;
    m.text = "Voil\xc3\xa0";
    CHECK(conv_add(c, &m) == 0);
    memset(&m, 0, sizeof(m));
    m.time_ms = 2000;
    m.system = 1;
    m.text = "claimed";
    CHECK(conv_add(c, &m) == 0);
    CHECK(c->n_msgs == 4 && c->msgs[1].system && strcmp(c->msgs[2].text, "Je regarde") == 0);
    /* A reload keeps the lines parley-agent added itself. */
    conv_clear_history(c);
    CHECK(c->n_msgs == 1 && c->msgs[0].system);
    m.system = 0;
    m.from_me = 1;
    m.seq = 2;
    m.time_ms = 3000;
    m.text = "Je regarde";
    CHECK(conv_add(c, &m) == 0);
    m.seq = 3;
    m.time_ms = 4000;
    CHECK(conv_add(c, &m) == 0);
    /* Marks: nothing known, pending this session, delivered, read. */
    CHECK(conv_mark(c, &c->msgs[1]) == MARK_NONE);
    CHECK(conv_mark(c, &c->msgs[0]) == MARK_NONE);
    c->session_first_seq = 2;
    CHECK(conv_mark(c, &c->msgs[1]) == MARK_PENDING);
    c->sent_seq = 3;
    CHECK(conv_mark(c, &c->msgs[2]) == MARK_NONE);
    c->delivered_seq = 3;
    c->read_seq = 2;
    CHECK(conv_mark(c, &c->msgs[1]) == MARK_READ);
    CHECK(conv_mark(c, &c->msgs[2]) == MARK_DELIVERED);
    /* The oldest lines go beyond the limit. */
    for (unsigned i = 0; i < CONVLIST_MAX_MESSAGES + 5; i++) {
        m.time_ms = 10000 + i;
        CHECK(conv_add(c, &m) == 0);
    }
    CHECK(c->n_msgs == CONVLIST_MAX_MESSAGES);
    CHECK(c->msgs[c->n_msgs - 1].time_ms == 10000 + CONVLIST_MAX_MESSAGES + 4);
    convlist_free(&cl);
}

int main(void)
{
    test_sections();
    test_transcript();
    printf("ok\n");
    return 0;
}
