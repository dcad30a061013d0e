/*
 * The agent's access log: on the agent's device, an append-only,
 * hash-chained record of who viewed, searched, exported or redacted
 * which conversation, by conversation id and never content (no text, no
 * search term, no name). It is written in the relay audit log's line
 * format and chain (relay/audit.h), so `parley-audit verify FILE` checks
 * it with the relay's own verifier: any entry altered, removed,
 * reordered or inserted is found. The file (`<store>.access`, mode 0600)
 * holds nothing but ids and times: it is what a data-protection officer
 * is given.
 */
#ifndef PARLEY_TUI_ACCESSLOG_H
#define PARLEY_TUI_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

#include <parley/common.h>

struct accesslog {
    int open;                     /* 0 (a zeroed struct): records nothing */
    int fd;
    uint64_t seq;                 /* of the last entry written */
    uint8_t hash[32];             /* of the last entry written */
    char agent[PARLEY_MAX_ID + 1];
};

/*
 * Opens (creating it 0600) the log at path for agent_id and continues its
 * chain from the last entry; a new file begins with a segment entry. A
 * last line cut short by a crash (no newline) was never an entry and is
 * dropped. Returns 0, or -1 with one line in err (a last line that is not
 * an entry of this format: the file is left untouched).
 */
int accesslog_open(struct accesslog *l, const char *path, const char *agent_id, char *err,
                   size_t err_cap);

/*
 * Appends one entry, written and synced before it returns: event
 * ("viewed", "searched", "exported", "redacted"), the conversation
 * (NULL: none) and extra, further members already in JSON (NULL: none;
 * printable ASCII, e.g. "\"message\":2"). Returns 0, or -1 (not open,
 * bad arguments, or the write failed: the entry is not in the chain).
 */
int accesslog_record(struct accesslog *l, const char *event, const uint8_t conv[16],
                     const char *extra);

void accesslog_close(struct accesslog *l);

#endif
