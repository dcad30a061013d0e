/*
 * The people every suite talks about (see people.h).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "people.h"

const char *const people_agent_ids[PEOPLE_AGENTS] = {"alice", "bob", "carol"};
const char *const people_agent_names[PEOPLE_AGENTS] = {"Alice Martin", "Bob Lef\xc3\xa8vre",
                                                       "Carol Diaz"};

uint8_t *people_cert(const parley_identity *brand, const char *brand_id,
                     const parley_identity *agent, const char *agent_id, const char *name,
                     uint64_t serial, uint64_t not_before, uint64_t not_after, size_t *len)
{
    parley_cert_info info;
    uint8_t *out = NULL;

    memset(&info, 0, sizeof(info));
    CHECK((size_t)snprintf(info.brand_id, sizeof(info.brand_id), "%s", brand_id) <
          sizeof(info.brand_id));
    CHECK((size_t)snprintf(info.agent_id, sizeof(info.agent_id), "%s", agent_id) <
          sizeof(info.agent_id));
    CHECK((size_t)snprintf(info.display_name, sizeof(info.display_name), "%s", name) <
          sizeof(info.display_name));
    memcpy(info.sign_pk, parley_identity_sign_pk(agent), 32);
    memcpy(info.box_pk, parley_identity_box_pk(agent), 32);
    info.serial = serial;
    info.not_before = not_before;
    info.not_after = not_after;
    CHECK_OK(parley_cert_issue(brand, &info, &out, len));
    return out;
}

void people_agents(const parley_identity *brand, uint64_t not_before, uint64_t not_after,
                   parley_identity *agents[PEOPLE_AGENTS], uint8_t *certs[PEOPLE_AGENTS],
                   size_t cert_lens[PEOPLE_AGENTS])
{
    for (int i = 0; i < PEOPLE_AGENTS; i++) {
        CHECK_OK(parley_identity_generate(&agents[i]));
        certs[i] = people_cert(brand, PEOPLE_BRAND, agents[i], people_agent_ids[i],
                               people_agent_names[i], 100u + (uint64_t)i, not_before, not_after,
                               &cert_lens[i]);
    }
}

void people_directory_spec(parley_directory_spec *spec, parley_queue_spec q[2], uint64_t version,
                           uint64_t issued_at, const uint8_t *const *certs, const size_t *cert_lens,
                           size_t n_certs, const char *const *support, size_t n_support)
{
    static const char *const vip[] = {"carol"};

    q[0] = (parley_queue_spec){"support", support, n_support};
    q[1] = (parley_queue_spec){"vip", vip, 1};
    memset(spec, 0, sizeof(*spec));
    spec->brand_id = PEOPLE_BRAND;
    spec->version = version;
    spec->certs = certs;
    spec->cert_lens = cert_lens;
    spec->n_certs = n_certs;
    spec->notice_text = PEOPLE_NOTICE;
    spec->notice_version = 3;
    spec->queues = q;
    spec->n_queues = n_certs == PEOPLE_AGENTS ? 2 : 1;
    spec->issued_at = issued_at;
}

void people_purposes(parley_directory_spec *spec)
{
    static const char *const names[] = {"support", "surveys", "marketing"};
    static const int optional[] = {0, 1, 1};
    static const char *const texts[] = {"Answering your questions", "A survey after the chat",
                                        "News and offers by e-mail"};

    spec->purposes = names;
    spec->n_purposes = 3;
    spec->purpose_optional = optional;
    spec->purpose_descriptions = texts;
}

void people_write_pin(const char *path, const char *brand_id, const parley_identity *brand)
{
    char hex[65];
    FILE *f = fopen(path, "w");

    CHECK(f != NULL);
    sodium_bin2hex(hex, sizeof(hex), parley_identity_sign_pk(brand), 32);
    CHECK(fprintf(f, "parley-brand-v1 %s %s\n", brand_id, hex) > 0);
    CHECK(fclose(f) == 0);
}
